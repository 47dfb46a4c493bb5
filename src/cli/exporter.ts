/**
 * `iptc exporter`: the firewall's counters for Prometheus, over node:http.
 * GET /metrics (OpenMetrics when the Accept header asks for it, else the
 * 0.0.4 text), GET /healthz. Read-only: no endpoint changes anything, and
 * only GET and HEAD are answered. Bound to loopback unless --listen says
 * otherwise. A scrape that fails (namespace gone, table absent) still
 * answers, with iptc_scrape_success 0, and writes one line per error on
 * stderr. SIGTERM and SIGINT close the server and the readers, then the
 * process ends with status 0.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { CounterMetrics } from '../metrics.js';
import { CONTENT_TYPES, negotiateFormat } from '../exposition.js';
import type { FamilyName } from '../native.js';
import type { BackendChoice } from '../which.js';
import { UsageError, type Args } from './args.js';
import { tableNameOf, type TableName } from '../names.js';

export const DEFAULT_LISTEN = '127.0.0.1:9455';

/** host:port, [v6]:port, or :port (loopback). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen must be HOST:PORT (e.g. ${DEFAULT_LISTEN} or [::1]:9455), got ${listen}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** The families of -4 / -6: both when neither is given. */
export function familiesOf(a: Args): FamilyName[] {
  if (a.flags.has('--ipv4')) return ['ipv4'];
  if (a.flags.has('--ipv6')) return ['ipv6'];
  return ['ipv4', 'ipv6'];
}

/** -t filter,nat (or -t given once per table is not possible with one value: a comma list). */
export function tablesOf(a: Args): TableName[] | undefined {
  const t = a.values.get('--table');
  return t === undefined ? undefined : t.split(',').filter((x) => x !== '').map(tableNameOf);
}

export async function runExporter(a: Args): Promise<void> {
  if (a.rest.length) throw new UsageError(`unexpected argument ${a.rest[0]}`);
  const { host, port } = parseListen(a.values.get('--listen') ?? DEFAULT_LISTEN);
  const backend = (a.values.get('--backend') ?? 'auto') as BackendChoice;
  const m = new CounterMetrics({ tables: tablesOf(a), families: familiesOf(a), netns: a.values.get('--netns'), backend });

  const server = createServer((req, res) => {
    handle(m, req, res).catch((e: unknown) => {
      process.stderr.write(`iptc exporter: ${String((e as Error).message ?? e).split('\n')[0]}\n`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const shown = addr && typeof addr === 'object' ? (addr.family === 'IPv6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`) : `${host}:${port}`;
  process.stdout.write(`iptc exporter: listening on http://${shown}/metrics\n`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      server.close(() => resolve());
      // Keep-alive connections (Prometheus keeps one) would hold close() open.
      server.closeAllConnections();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  m.close();
}

async function handle(m: CounterMetrics, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('read-only: only GET and HEAD\n');
    return;
  }
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('ok\n');
    return;
  }
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<html><head><title>iptc exporter</title></head><body><h1>iptc exporter</h1><p><a href="/metrics">Metrics</a></p></body></html>\n');
    return;
  }
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found: try /metrics\n');
    return;
  }
  const format = negotiateFormat(req.headers.accept);
  const scrape = await m.collect();
  for (const e of scrape.errors) process.stderr.write(`iptc exporter: ${e.message.split('\n')[0]}\n`);
  // The Buffer of a response already sent is written again: no new 10 MB allocation per scrape of a large table.
  const buffer = spare.pop();
  const body = m.formatBuffer(scrape, format, buffer);
  // Only a Buffer with memory of its own is kept (a small one is a slice of Node's shared pool).
  const whole = body.buffer === buffer?.buffer ? buffer : body.byteOffset === 0 && body.buffer.byteLength >= 1 << 16 ? Buffer.from(body.buffer) : undefined;
  if (whole) res.once('close', () => void (spare.length < 2 && spare.push(whole)));
  res.writeHead(200, { 'content-type': CONTENT_TYPES[format], 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Buffers of responses sent, to write the next scrapes into. */
const spare: Buffer[] = [];
