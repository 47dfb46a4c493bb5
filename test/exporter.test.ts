/**
 * `iptc exporter` scraped by a real Prometheus (Debian's prometheus
 * package): both run inside a scratch namespace, on its loopback (ports
 * there are free by construction), with Prometheus' storage in a temporary
 * directory; the machine's own Prometheus service, if any, is never used.
 * After packets pass through the rules, what Prometheus' query API returns
 * for a rule equals the counter iptables-legacy-save -c prints.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasTool, loUp, scratchPerTest, type Scratch } from './helpers.js';
import { awkwardComments, oracleRules } from './metrics-helpers.js';

const ns = scratchPerTest();
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Reply {
  status: number;
  type: string;
  body: string;
}

/** An HTTP request made from inside the namespace (by node, through nsenter). */
function http(s: Scratch, url: string, init: { method?: string; accept?: string } = {}): Reply {
  const script = `fetch(process.argv[1], { method: process.argv[2], headers: process.argv[3] ? { accept: process.argv[3] } : {} })
    .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, type: r.headers.get('content-type'), body: await r.text() })))
    .catch((e) => { process.stdout.write(JSON.stringify({ status: 0, type: '', body: String(e) })); })`;
  const r = spawnSync('nsenter', [`--net=${s.ns.path}`, process.execPath, '-e', script, url, init.method ?? 'GET', init.accept ?? ''], { encoding: 'utf8' });
  return JSON.parse(r.stdout) as Reply;
}

/** Starts a program inside the namespace; its output is collected. */
function start(s: Scratch, argv: string[]): { p: ChildProcess; out: () => string; err: () => string } {
  const p = spawn('nsenter', [`--net=${s.ns.path}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  return { p, out: () => out, err: () => err };
}

async function until<T>(what: string, f: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

function query(s: Scratch, q: string): Series[] {
  const r = http(s, `http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent(q)}`);
  if (r.status !== 200) return [];
  return (JSON.parse(r.body) as { data: { result: Series[] } }).data.result;
}

const exited = (p: ChildProcess) => new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (code) => r(code))));

describe('iptc exporter', () => {
  it('is scraped by a real Prometheus: a rule\'s packets as Prometheus stores them equal iptables-legacy-save -c; a failed scrape is iptc_scrape_success 0', async (ctx) => {
    if (!hasTool('prometheus')) return ctx.skip();
    const s = ns();
    loUp(s);
    for (const c of awkwardComments) s.ipt(`-A INPUT -p icmp -m comment --comment '${c.replace(/'/g, `'\\''`)}' -j ACCEPT`);
    s.ipt('-A OUTPUT -p icmp -j ACCEPT');

    // nat is absent at first: every scrape fails (and says so) until it is made.
    const exporter = start(s, [process.execPath, 'dist/cli/main.js', 'exporter', '--netns', s.ns.path, '-4', '-t', 'filter,nat']);
    await until('the exporter', () => (exporter.out().includes('listening on http://127.0.0.1:9455/metrics') ? true : exporter.p.exitCode !== null ? fail(exporter.err()) : undefined));

    const dir = mkdtempSync(join(tmpdir(), 'iptc-prometheus-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: iptc\n    static_configs:\n      - targets: ['127.0.0.1:9455']\n`,
    );
    const prom = start(s, ['prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:9090', '--log.level=warn']);

    const up = await until('Prometheus to scrape the exporter', () => query(s, 'up{job="iptc"} == 1')[0] ?? (prom.p.exitCode !== null ? fail(prom.err()) : undefined));
    expect(up.value[1]).toBe('1');
    await until('a failed scrape', () => query(s, 'iptc_scrape_success == 0')[0]);
    expect(query(s, 'iptc_table_scrape_success{table="nat"}')[0]!.value[1]).toBe('0');
    await until('the error on stderr', () => exporter.err() || undefined);
    expect(exporter.err()).toMatch(/^iptc exporter: ipv4 table nat: .*no table 'nat'.*\n/);

    s.sh('ping -c 7 -i 0.01 -W 1 127.0.0.1');
    s.ipt('-t nat -A POSTROUTING -j RETURN');
    const oracle = oracleRules(s.save('ipv4', 'filter', true));
    const want = oracle.rules.find((r) => r.chain === 'INPUT' && r.position === 1)!;
    expect(Number(want.packets)).toBeGreaterThan(0);
    await until('the packets in Prometheus', () =>
      query(s, 'iptc_rule_packets_total{table="filter",chain="INPUT",rule="1"}').find((x) => x.value[1] === want.packets),
    );
    await until('a good scrape', () => query(s, 'iptc_scrape_success == 1')[0]);
    // Every rule's counters and labels, as Prometheus holds them (ping has stopped: they no longer move).
    for (const name of ['packets', 'bytes'] as const) {
      const got = query(s, `iptc_rule_${name}_total{family="ipv4",table="filter"}`);
      for (const r of oracle.rules) {
        const x = got.find((g) => g.metric.chain === r.chain && g.metric.rule === String(r.position));
        expect(x, `${r.chain} ${r.position}`).toBeDefined();
        expect(x!.value[1]).toBe(r[name]);
        // (Prometheus keeps no label whose value is empty.)
        expect(x!.metric.target ?? '').toBe(r.target);
        expect(x!.metric.comment ?? '').toBe(r.comment);
      }
    }
    expect(query(s, 'iptc_table_rules{table="filter"}')[0]!.value[1]).toBe(String(oracle.rules.length));
    expect(query(s, 'iptc_table_rules{table="nat"}')[0]!.value[1]).toBe('1');

    // The exporter by hand: content negotiation, /healthz, read-only.
    const om = http(s, 'http://127.0.0.1:9455/metrics', { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' });
    expect(om.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    const plain = http(s, 'http://127.0.0.1:9455/metrics');
    expect(plain.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(plain.body).toContain('# TYPE iptc_rule_packets_total counter\n');
    expect(http(s, 'http://127.0.0.1:9455/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect(http(s, 'http://127.0.0.1:9455/metrics', { method: 'POST' }).status).toBe(405);
    expect(http(s, 'http://127.0.0.1:9455/nope').status).toBe(404);

    // SIGTERM ends it cleanly, though Prometheus holds a keep-alive connection.
    exporter.p.kill('SIGTERM');
    expect(await exited(exporter.p)).toBe(0);
    prom.p.kill('SIGTERM');
    await exited(prom.p);
  });

  it('listens on loopback unless told otherwise, and refuses a bad --listen', async () => {
    const s = ns();
    loUp(s);
    const e = start(s, [process.execPath, 'dist/cli/main.js', 'exporter', '--netns', s.ns.path, '--listen', ':0']);
    await until('the exporter', () => (e.out().includes('listening') ? true : undefined), 10_000);
    expect(e.out()).toMatch(/^iptc exporter: listening on http:\/\/127\.0\.0\.1:\d+\/metrics\n$/);
    e.p.kill('SIGINT');
    expect(await exited(e.p)).toBe(0);
    for (const cmd of ['exporter', 'watch']) {
      const help = spawnSync(process.execPath, ['dist/cli/main.js', cmd, '--help'], { encoding: 'utf8' });
      expect(help.stdout).toMatch(new RegExp(`^usage: iptc ${cmd} `));
    }
    const bad = spawnSync(process.execPath, ['dist/cli/main.js', 'exporter', '--listen', 'localhost'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^iptc: --listen must be HOST:PORT/);
  });
});

function fail(why: string): never {
  throw new Error(why);
}
