/**
 * Real packets through rules that iptc-node commits. Every test builds its own
 * scratch namespaces joined by veth pairs (never touching the machine's own
 * namespace), commits rules with the library, and sends TCP, UDP and ICMP
 * between the namespaces: Node's net/dgram in child processes entered with
 * nsenter, and ping. Verdicts, policies, RETURN, conntrack, NAT and exact
 * counters (checked against iptables-legacy-save -c as well), on both
 * backends: legacy xtables and nf_tables (iptables-nft-save -c the oracle).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { Table, type BackendName, type FamilyName } from '../src/index.js';
import { scratch, stripComments, type Scratch } from './helpers.js';
import type { TableName } from '../src/names.js';

/** Which kernel firewall each test's namespaces are written through. */
const backendOf = new WeakMap<Scratch, BackendName>();
const backend = (s: Scratch): BackendName => backendOf.get(s) ?? 'legacy';

/** The oracle: the backend's own save tool, -c, in the namespace. */
function oracleSave(s: Scratch, family: FamilyName, table: string): string {
  if (backend(s) === 'legacy') return s.save(family, table, true);
  return stripComments(s.sh(`${family === 'ipv4' ? 'iptables' : 'ip6tables'}-nft-save -c -t ${table}`));
}

// ---------------------------------------------------------------- cleanup

/**
 * What one test made: its namespaces and child processes, all ended when the
 * test finishes, passed or not. Per test, not per file, because the tests run
 * concurrently (most of their time is waiting for packets that never come).
 */
class World {
  readonly #scratches: Scratch[] = [];
  readonly #children = new Set<ChildProcess>();

  constructor(
    ctx: TestContext,
    readonly backend: BackendName,
  ) {
    ctx.onTestFinished(() => this.close());
  }

  ns(): Scratch {
    const s = scratch();
    backendOf.set(s, this.backend);
    this.#scratches.push(s);
    return s;
  }

  track(child: ChildProcess): ChildProcess {
    this.#children.add(child);
    child.on('exit', () => this.#children.delete(child));
    return child;
  }

  close(): void {
    for (const c of this.#children) c.kill('SIGKILL');
    this.#children.clear();
    while (this.#scratches.length) this.#scratches.pop()!.close();
  }
}

// The machine's own forwarding switches must come out as they went in: the
// router tests set them inside their namespace only.
const hostSysctls = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv6/conf/all/forwarding'];
let hostBefore: string[] = [];
beforeAll(() => {
  hostBefore = hostSysctls.map((p) => readFileSync(p, 'utf8'));
});
afterAll(() => {
  expect(hostSysctls.map((p) => readFileSync(p, 'utf8'))).toEqual(hostBefore);
});

// ---------------------------------------------------------------- addresses and links

/** Host `host` on subnet `subnet`: 10.0.SUBNET.HOST or fd00:SUBNET::HOST. */
function ip(family: FamilyName, subnet: number, host: number): string {
  return family === 'ipv4' ? `10.0.${subnet}.${host}` : `fd00:${subnet}::${host}`;
}
const mac = (subnet: number, host: number) =>
  `02:00:00:00:${subnet.toString(16).padStart(2, '0')}:${host.toString(16).padStart(2, '0')}`;

/** The IP header in front of every packet: what the kernel counts besides the payload. */
const IP_HEADER = { ipv4: 20, ipv6: 40 } as const;
const ICMP_HEADER = 8;
const UDP_HEADER = 8;

/** Echo requests / replies as iptables words. */
const echo = (family: FamilyName, type: 'request' | 'reply') =>
  family === 'ipv4' ? `-p icmp --icmp-type echo-${type}` : `-p ipv6-icmp --icmpv6-type echo-${type}`;
const icmpProto = (family: FamilyName) => (family === 'ipv4' ? 'icmp' : 'ipv6-icmp');

/** Runs a shell command in `s` without blocking the other tests; throws with stderr on failure. */
async function sh(w: World, s: Scratch, cmd: string): Promise<string> {
  const r = await run(w, 'nsenter', [`--net=${s.ns.path}`, 'sh', '-c', cmd], 10_000);
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * A veth pair from x (interface xIf, host xHost) to y (yIf, yHost) on
 * `subnet`, both families addressed, up, with permanent neighbour entries so
 * that no ARP or neighbour discovery has to get through the rules under test.
 */
async function link(w: World, x: Scratch, xIf: string, xHost: number, y: Scratch, yIf: string, yHost: number, subnet: number): Promise<void> {
  await sh(w, x, `ip link add ${xIf} address ${mac(subnet, xHost)} type veth peer name ${yIf} address ${mac(subnet, yHost)} netns ${y.ns.path}`);
  const ends = [
    { s: x, dev: xIf, me: xHost, peer: yHost },
    { s: y, dev: yIf, me: yHost, peer: xHost },
  ];
  for (const e of ends) {
    await sh(
      w,
      e.s,
      [
        'ip link set lo up',
        `ip addr add ${ip('ipv4', subnet, e.me)}/24 dev ${e.dev}`,
        `ip -6 addr add ${ip('ipv6', subnet, e.me)}/64 dev ${e.dev} nodad`,
        `ip link set ${e.dev} up`,
      ].join(' && '),
    );
  }
  // Carrier and operstate come up asynchronously (linkwatch): wait for both ends, at most 3 s.
  for (const e of ends) {
    const state = `for i in $(seq 150); do ip -o link show dev ${e.dev} | grep -q 'state UP' && exit 0; sleep 0.02; done; ip -o link show dev ${e.dev}; exit 1`;
    await sh(w, e.s, state);
    await sh(
      w,
      e.s,
      [
        `ip neigh replace ${ip('ipv4', subnet, e.peer)} lladdr ${mac(subnet, e.peer)} dev ${e.dev} nud permanent`,
        `ip -6 neigh replace ${ip('ipv6', subnet, e.peer)} lladdr ${mac(subnet, e.peer)} dev ${e.dev} nud permanent`,
      ].join(' && '),
    );
  }
}

/** Two namespaces on one link: a (host 1) and b (host 2) on subnet 1. */
async function pair(w: World): Promise<{ a: Scratch; b: Scratch }> {
  const a = w.ns();
  const b = w.ns();
  await link(w, a, 'a0', 1, b, 'b0', 2, 1);
  return { a, b };
}

/**
 * client c (subnet 1, host 1) — router r (host 254 on both subnets, r0 and r1,
 * forwarding on) — server s (subnet 2, host 2). The client routes everything
 * through the router; the server only when `serverRoute` says so.
 */
async function routed(w: World, serverRoute: boolean): Promise<{ c: Scratch; r: Scratch; s: Scratch }> {
  const c = w.ns();
  const r = w.ns();
  const s = w.ns();
  await link(w, c, 'c0', 1, r, 'r0', 254, 1);
  await link(w, r, 'r1', 254, s, 's0', 2, 2);
  await sh(w, r, 'sysctl -qw net.ipv4.ip_forward=1 && sysctl -qw net.ipv6.conf.all.forwarding=1');
  await sh(w, c, `ip route add default via ${ip('ipv4', 1, 254)} && ip -6 route add default via ${ip('ipv6', 1, 254)}`);
  if (serverRoute) await sh(w, s, `ip route add default via ${ip('ipv4', 2, 254)} && ip -6 route add default via ${ip('ipv6', 2, 254)}`);
  return { c, r, s };
}

// ---------------------------------------------------------------- traffic

/**
 * Listens on every { proto, host, port } given as JSON in argv[1]; prints
 * {"ev":"ready"} once all listen, then one JSON line per TCP connection
 * (answered with "hi\n") or UDP datagram (echoed back). Exits when stdin ends.
 */
const SERVER_JS = `
const net = require('net'), dgram = require('dgram');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const spec = JSON.parse(process.argv[1]);
let pending = spec.length;
const ready = () => { if (--pending === 0) out({ ev: 'ready' }); };
for (const { proto, host, port } of spec) {
  if (proto === 'tcp') {
    const srv = net.createServer((c) => {
      c.on('error', () => {});
      out({ ev: 'tcp', port, local: c.localAddress, localPort: c.localPort, remote: c.remoteAddress });
      c.end('hi\\n');
    });
    srv.on('error', (e) => { console.error(String(e)); process.exit(2); });
    srv.listen({ host, port, ipv6Only: host.includes(':') }, ready);
  } else {
    const u = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    u.on('error', (e) => { console.error(String(e)); process.exit(2); });
    u.on('message', (m, r) => {
      out({ ev: 'udp', port, remote: r.address, data: m.toString() });
      u.send(m, r.port, r.address);
    });
    u.bind(port, host, ready);
  }
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * One attempt: argv proto host port timeoutMs [payload]. TCP: connect and
 * read the server's line; UDP: a connected socket sends the payload and waits
 * for the echo. Prints one JSON line: result connected | reply | timeout |
 * error (with the errno code), and how long it took.
 */
const CLIENT_JS = `
const net = require('net'), dgram = require('dgram');
const [proto, host, port, timeout, payload = 'ping'] = process.argv.slice(1);
const t0 = Date.now();
const done = (o) => { process.stdout.write(JSON.stringify({ ...o, ms: Date.now() - t0 }) + '\\n'); process.exit(0); };
setTimeout(() => done({ result: 'timeout' }), Number(timeout));
if (proto === 'tcp') {
  const c = net.connect({ host, port: Number(port) });
  let data = '';
  c.on('data', (d) => {
    data += d;
    if (data.includes('\\n')) done({ result: 'connected', data: data.trim(), local: c.localAddress });
  });
  c.on('error', (e) => done({ result: 'error', code: e.code }));
} else {
  const u = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  u.on('error', (e) => done({ result: 'error', code: e.code }));
  u.on('message', (m) => done({ result: 'reply', data: m.toString() }));
  u.connect(Number(port), host, () => u.send(payload));
}
`;

type Proto = 'tcp' | 'udp';
interface ServerEvent {
  ev: 'tcp' | 'udp';
  port: number;
  local?: string;
  localPort?: number;
  remote: string;
  data?: string;
}
interface Server {
  events: ServerEvent[];
  /** The first event (past or future) that `pred` accepts, within `ms`. */
  next(pred: (e: ServerEvent) => boolean, ms?: number): Promise<ServerEvent>;
}
interface Attempt {
  result: 'connected' | 'reply' | 'timeout' | 'error';
  code?: string;
  data?: string;
  local?: string;
  ms: number;
}

/** How long an attempt that must fail by silence waits; attempts that must succeed get far longer. */
const SILENT_MS = 1000;
const PATIENT_MS = 5000;

/** Starts SERVER_JS in `s` and waits until every listener is bound. */
async function serve(w: World, s: Scratch, listeners: { proto: Proto; host: string; port: number }[]): Promise<Server> {
  const child = w.track(spawn('nsenter', [`--net=${s.ns.path}`, process.execPath, '-e', SERVER_JS, JSON.stringify(listeners)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  const events: ServerEvent[] = [];
  const waiters: { pred: (e: ServerEvent) => boolean; resolve: (e: ServerEvent) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in 5 s: ${stderr}`)), 5000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = JSON.parse(line);
      if (e.ev === 'ready') {
        clearTimeout(timer);
        resolve();
        return;
      }
      events.push(e);
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    });
  });
  return {
    events,
    next(pred, ms = PATIENT_MS) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (e: ServerEvent) => (clearTimeout(timer), resolve(e)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`server saw no such event in ${ms} ms; it saw ${JSON.stringify(events)}`));
        }, ms);
        waiters.push(w);
      });
    },
  };
}

/** Runs a command to its end (killed after guardMs), asynchronously so that several can run at once. */
function run(w: World, cmd: string, args: string[], guardMs: number): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = w.track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const guard = setTimeout(() => child.kill('SIGKILL'), guardMs);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(guard);
      resolve({ status, stdout, stderr, ms: Date.now() - t0 });
    }),
  );
}

/** One TCP connection or UDP exchange from `s` to host:port. */
async function attempt(w: World, s: Scratch, proto: Proto, host: string, port: number, timeoutMs: number, payload?: string): Promise<Attempt> {
  const args = [`--net=${s.ns.path}`, process.execPath, '-e', CLIENT_JS, proto, host, String(port), String(timeoutMs)];
  if (payload !== undefined) args.push(payload);
  const r = await run(w, 'nsenter', args, timeoutMs + 5000);
  const line = r.stdout.trim();
  if (r.status !== 0 || !line) throw new Error(`client failed (${r.status}): ${r.stderr}`);
  return JSON.parse(line) as Attempt;
}

/** ping from `s`: `count` echo requests of `size` payload bytes, `wait` seconds for each reply. */
function ping(w: World, s: Scratch, family: FamilyName, dst: string, { count = 1, size = 56, wait = 1 } = {}) {
  const args = [`--net=${s.ns.path}`, 'ping', family === 'ipv4' ? '-4' : '-6', '-n', '-c', String(count), '-i', '0.01', '-W', String(wait), '-s', String(size), dst];
  return run(w, 'nsenter', args, (wait + 2) * 1000 + count * 100);
}

// ---------------------------------------------------------------- tables

/** Opens a table of `s`, lets `change` edit it, commits: the library writes every rule. */
async function commit(s: Scratch, family: FamilyName, table: TableName, change: (t: Table) => void): Promise<void> {
  const t = await Table.open(table, { family, netns: s.ns, backend: backend(s) });
  change(t);
  await t.commit();
}

async function counters(s: Scratch, family: FamilyName, chain: string, table: TableName = 'filter') {
  const t = await Table.open(table, { family, netns: s.ns, backend: backend(s) });
  return {
    rules: t.rules(chain).map((r) => r.counters),
    policy: t.chain(chain)!.counters,
  };
}

/**
 * The library's save -c equals iptables-legacy-save -c. Stray IPv6 packets
 * (the kernel's own MLD reports and router solicitations after a link comes
 * up) may move a policy counter at any time; counters only grow, so when two
 * library reads around the oracle's agree, the oracle read the same kernel state.
 */
async function expectOracleAgrees(s: Scratch, family: FamilyName, table: TableName = 'filter'): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const before = (await Table.open(table, { family, netns: s.ns, backend: backend(s) })).save({ counters: true });
    const oracle = oracleSave(s, family, table);
    const after = (await Table.open(table, { family, netns: s.ns, backend: backend(s) })).save({ counters: true });
    if (before === after) {
      expect(oracle).toBe(before);
      return;
    }
    await settle();
  }
  throw new Error(`the ${family} ${table} counters never held still`);
}

const n = (x: number | bigint) => BigInt(x);
const settle = () => new Promise((r) => setTimeout(r, 100));

// ---------------------------------------------------------------- tests

// Concurrent: every test has its own namespaces, and most of their time is
// spent waiting out the packets that must not arrive.
for (const kind of ['legacy', 'nft'] as const)
describe.concurrent(`packets through committed rules (${kind})`, () => {
  for (const family of ['ipv4', 'ipv6'] as const) {
    const A = ip(family, 1, 1);
    const B = ip(family, 1, 2);

    describe(`verdicts, ${family}`, () => {
      it('TCP: ACCEPT connects, DROP times out, REJECT --reject-with tcp-reset is refused at once', async (ctx) => {
        const w = new World(ctx, kind);
        const { a, b } = await pair(w);
        const srv = await serve(w, b, [8081, 8082, 8083].map((port) => ({ proto: 'tcp' as const, host: B, port })));
        // Without rules every port answers: what changes below is the rules' doing.
        const baseline = await Promise.all([8081, 8082, 8083].map((port) => attempt(w, a, 'tcp', B, port, PATIENT_MS)));
        expect(baseline.map((x) => x.result)).toEqual(['connected', 'connected', 'connected']);
        await settle(); // the baseline connections' last FIN and ACK go by before the rules arrive
        await commit(b, family, 'filter', (t) => {
          t.append('INPUT', '-p tcp --dport 8081 -j ACCEPT')
            .append('INPUT', '-p tcp --dport 8082 -j DROP')
            .append('INPUT', '-p tcp --dport 8083 -j REJECT --reject-with tcp-reset')
            .append('INPUT', '-p tcp -j DROP');
        });
        const seen = srv.events.length;
        const [ok, dropped, rejected] = await Promise.all([
          attempt(w, a, 'tcp', B, 8081, PATIENT_MS),
          attempt(w, a, 'tcp', B, 8082, SILENT_MS),
          attempt(w, a, 'tcp', B, 8083, SILENT_MS),
        ]);
        expect(ok).toMatchObject({ result: 'connected', data: 'hi', local: A });
        expect(dropped.result).toBe('timeout');
        expect(rejected).toMatchObject({ result: 'error', code: 'ECONNREFUSED' });
        expect(rejected.ms).toBeLessThan(SILENT_MS); // an answer, not the end of waiting
        expect(await srv.next((e) => e.port === 8081 && e.remote === A)).toBeTruthy();
        expect(srv.events.slice(seen).map((e) => e.port)).toEqual([8081]);
        const k = (await counters(b, family, 'INPUT')).rules;
        expect(k[0]!.packets).toBeGreaterThanOrEqual(3n); // SYN, ACK, FIN, ...
        expect(k[1]!.packets).toBeGreaterThanOrEqual(1n); // the SYN (and perhaps a retransmission)
        expect(k[2]!.packets).toBe(1n); // one SYN, answered by one reset
        expect(k[3]!.packets).toBe(0n);
      });

      it('UDP: ACCEPT delivers, DROP loses the datagram, REJECT answers port-unreachable', async (ctx) => {
        const w = new World(ctx, kind);
        const { a, b } = await pair(w);
        const srv = await serve(w, b, [5301, 5302, 5303].map((port) => ({ proto: 'udp' as const, host: B, port })));
        const baseline = await Promise.all([5301, 5302, 5303].map((port) => attempt(w, a, 'udp', B, port, PATIENT_MS)));
        expect(baseline.map((x) => x.result)).toEqual(['reply', 'reply', 'reply']);
        await commit(b, family, 'filter', (t) => {
          t.append('INPUT', '-p udp --dport 5301 -j ACCEPT')
            .append('INPUT', '-p udp --dport 5302 -j DROP')
            .append('INPUT', '-p udp --dport 5303 -j REJECT')
            .append('INPUT', '-p udp -j DROP');
        });
        const seen = srv.events.length;
        const payload = 'twelve bytes';
        const [ok, dropped, rejected] = await Promise.all([
          attempt(w, a, 'udp', B, 5301, PATIENT_MS, payload),
          attempt(w, a, 'udp', B, 5302, SILENT_MS, payload),
          attempt(w, a, 'udp', B, 5303, SILENT_MS, payload),
        ]);
        expect(ok).toMatchObject({ result: 'reply', data: payload });
        expect(dropped.result).toBe('timeout');
        expect(rejected).toMatchObject({ result: 'error', code: 'ECONNREFUSED' });
        expect(rejected.ms).toBeLessThan(SILENT_MS); // an answer, not the end of waiting
        expect(srv.events.slice(seen)).toEqual([{ ev: 'udp', port: 5301, remote: A, data: payload }]);
        // One datagram each, counted to the byte: IP header + UDP header + payload.
        const one = { packets: 1n, bytes: n(IP_HEADER[family] + UDP_HEADER + payload.length) };
        expect((await counters(b, family, 'INPUT')).rules).toEqual([one, one, one, { packets: 0n, bytes: 0n }]);
      });

      it('ICMP echo: ACCEPT answers, DROP is silent, REJECT answers port-unreachable', async (ctx) => {
        const w = new World(ctx, kind);
        const { a, b } = await pair(w);
        const verdict = async (target: string) => {
          await commit(b, family, 'filter', (t) => t.flush('INPUT').append('INPUT', `${echo(family, 'request')} -j ${target}`));
          return ping(w, a, family, B, { count: 1, wait: 1 });
        };
        const ok = await verdict('ACCEPT');
        expect(ok.status).toBe(0);
        expect(ok.stdout).toContain('1 received');
        const dropped = await verdict('DROP');
        expect(dropped.status).toBe(1);
        expect(dropped.stdout).toContain('0 received');
        expect(dropped.stdout).not.toMatch(/unreachable/i);
        const rejected = await verdict('REJECT');
        expect(rejected.status).not.toBe(0);
        expect(rejected.stdout).toMatch(/Destination Port Unreachable|Port unreachable/i);
        expect((await counters(b, family, 'INPUT')).rules.map((c) => c.packets)).toEqual([1n]);
      });

      it('the policy decides what no rule matches', async (ctx) => {
        const w = new World(ctx, kind);
        const { a, b } = await pair(w);
        const srv = await serve(w, b, [8081, 8082].map((port) => ({ proto: 'tcp' as const, host: B, port })));
        await commit(b, family, 'filter', (t) => t.append('INPUT', '-p tcp --dport 8081 -j ACCEPT').setPolicy('INPUT', 'DROP'));
        const [ruled, unruled, pinged] = await Promise.all([
          attempt(w, a, 'tcp', B, 8081, PATIENT_MS),
          attempt(w, a, 'tcp', B, 8082, SILENT_MS),
          ping(w, a, family, B, { count: 1, wait: 1 }),
        ]);
        expect(ruled.result).toBe('connected');
        expect(unruled.result).toBe('timeout');
        expect(pinged.status).toBe(1);
        expect(srv.events.map((e) => e.port)).toEqual([8081]);
        const dropped = (await counters(b, family, 'INPUT')).policy!.packets;
        expect(dropped).toBeGreaterThanOrEqual(2n); // at least the SYN to 8082 and the echo request
        await commit(b, family, 'filter', (t) => t.setPolicy('INPUT', 'ACCEPT'));
        expect((await attempt(w, a, 'tcp', B, 8082, PATIENT_MS)).result).toBe('connected');
        expect((await ping(w, a, family, B)).status).toBe(0);
        await srv.next((e) => e.port === 8082);
        expect((await counters(b, family, 'INPUT')).policy!.packets).toBeGreaterThan(dropped);
      });

      it('RETURN from a user chain goes on with the next rule of the caller', async (ctx) => {
        const w = new World(ctx, kind);
        const { a, b } = await pair(w);
        const srv = await serve(w, b, [8081, 8082, 8083].map((port) => ({ proto: 'tcp' as const, host: B, port })));
        await commit(b, family, 'filter', (t) => {
          t.createChain('svc')
            .append('svc', '-p tcp --dport 8081 -j RETURN')
            .append('svc', '-p tcp --dport 8083 -j RETURN')
            .append('svc', '-j DROP')
            .append('INPUT', '-p tcp -j svc')
            .append('INPUT', '-p tcp --dport 8081 -j REJECT --reject-with tcp-reset')
            .setPolicy('INPUT', 'ACCEPT');
        });
        const [returnedToReject, dropped, returnedToPolicy] = await Promise.all([
          attempt(w, a, 'tcp', B, 8081, SILENT_MS),
          attempt(w, a, 'tcp', B, 8082, SILENT_MS),
          attempt(w, a, 'tcp', B, 8083, PATIENT_MS),
        ]);
        // 8081: svc returns, INPUT's next rule rejects; 8082: svc drops; 8083: svc returns, no rule left, the policy accepts.
        expect(returnedToReject).toMatchObject({ result: 'error', code: 'ECONNREFUSED' });
        expect(dropped.result).toBe('timeout');
        expect(returnedToPolicy).toMatchObject({ result: 'connected', data: 'hi' });
        await srv.next((e) => e.port === 8083);
        expect(srv.events.map((e) => e.port)).toEqual([8083]);
        const svc = (await counters(b, family, 'svc')).rules;
        expect(svc[0]!.packets).toBe(1n);
        expect(svc[1]!.packets).toBeGreaterThanOrEqual(3n);
        expect(svc[2]!.packets).toBeGreaterThanOrEqual(1n);
        expect((await counters(b, family, 'INPUT')).rules[1]!.packets).toBe(1n);
      });
    });

    describe(`conntrack, ${family}`, () => {
      it('ESTABLISHED,RELATED lets replies in while NEW connections are dropped', async (ctx) => {
        const w = new World(ctx, kind);
        const { a, b } = await pair(w);
        const listeners = (host: string) => [
          { proto: 'tcp' as const, host, port: 8080 },
          { proto: 'udp' as const, host, port: 5300 },
        ];
        const [srvA, srvB] = await Promise.all([serve(w, a, listeners(A)), serve(w, b, listeners(B))]);
        await commit(a, family, 'filter', (t) => {
          t.append('INPUT', '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT').setPolicy('INPUT', 'DROP');
        });
        const [tcpOut, udpOut, related, pingOut, tcpIn, udpIn, pingIn] = await Promise.all([
          attempt(w, a, 'tcp', B, 8080, PATIENT_MS),
          attempt(w, a, 'udp', B, 5300, PATIENT_MS),
          attempt(w, a, 'udp', B, 5399, PATIENT_MS), // closed: B's port-unreachable is RELATED
          ping(w, a, family, B),
          attempt(w, b, 'tcp', A, 8080, SILENT_MS),
          attempt(w, b, 'udp', A, 5300, SILENT_MS),
          ping(w, b, family, A, { count: 1, wait: 1 }),
        ]);
        expect(tcpOut).toMatchObject({ result: 'connected', data: 'hi' });
        expect(udpOut).toMatchObject({ result: 'reply', data: 'ping' });
        expect(related).toMatchObject({ result: 'error', code: 'ECONNREFUSED' });
        expect(pingOut.status).toBe(0);
        expect(tcpIn.result).toBe('timeout');
        expect(udpIn.result).toBe('timeout');
        expect(pingIn.status).toBe(1);
        await srvB.next((e) => e.ev === 'tcp' && e.remote === A);
        await srvB.next((e) => e.ev === 'udp' && e.remote === A);
        expect(srvA.events).toEqual([]);
        const k = await counters(a, family, 'INPUT');
        expect(k.rules[0]!.packets).toBeGreaterThanOrEqual(4n); // SYN-ACK, "hi", UDP echo, port-unreachable, echo reply...
        expect(k.policy!.packets).toBeGreaterThanOrEqual(3n); // B's SYN, datagram, echo request
      });
    });

    describe(`nat, ${family}`, () => {
      const to = (addr: string, port: number) => (family === 'ipv4' ? `${addr}:${port}` : `[${addr}]:${port}`);

      it('DNAT in OUTPUT sends a connection for X:80 to Y:8080, and UDP replies come back from X', async (ctx) => {
        const w = new World(ctx, kind);
        const { a, b } = await pair(w);
        const X = ip(family, 1, 80); // nobody has this address
        const srv = await serve(w, b, [
          { proto: 'tcp', host: B, port: 8080 },
          { proto: 'udp', host: B, port: 5300 },
        ]);
        await commit(a, family, 'nat', (t) => {
          t.append('OUTPUT', `-d ${X} -p tcp --dport 80 -j DNAT --to-destination ${to(B, 8080)}`);
          t.append('OUTPUT', `-d ${X} -p udp --dport 53 -j DNAT --to-destination ${to(B, 5300)}`);
        });
        // The UDP client's socket is connected to X:53: it takes the echo only if it comes back from there.
        const [tcp, udp] = await Promise.all([attempt(w, a, 'tcp', X, 80, PATIENT_MS), attempt(w, a, 'udp', X, 53, PATIENT_MS, 'dns?')]);
        expect(tcp).toMatchObject({ result: 'connected', data: 'hi' });
        expect(udp).toMatchObject({ result: 'reply', data: 'dns?' });
        expect(await srv.next((e) => e.ev === 'tcp')).toEqual({ ev: 'tcp', port: 8080, local: B, localPort: 8080, remote: A });
        expect(await srv.next((e) => e.ev === 'udp')).toEqual({ ev: 'udp', port: 5300, remote: A, data: 'dns?' });
        // The nat table sees the first packet of each connection only.
        expect((await counters(a, family, 'OUTPUT', 'nat')).rules.map((c) => c.packets)).toEqual([1n, 1n]);
      });

      it('DNAT in PREROUTING of a router forwards the router:80 to server:8080', async (ctx) => {
        const w = new World(ctx, kind);
        const { c, r, s } = await routed(w, true);
        const R = ip(family, 1, 254);
        const C = ip(family, 1, 1);
        const S = ip(family, 2, 2);
        const srv = await serve(w, s, [{ proto: 'tcp', host: S, port: 8080 }]);
        await commit(r, family, 'nat', (t) => t.append('PREROUTING', `-i r0 -d ${R} -p tcp --dport 80 -j DNAT --to-destination ${to(S, 8080)}`));
        await commit(r, family, 'filter', (t) => {
          t.append('FORWARD', '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT')
            .append('FORWARD', '-i r0 -o r1 -m conntrack --ctstate DNAT -j ACCEPT')
            .setPolicy('FORWARD', 'DROP');
        });
        const tcp = await attempt(w, c, 'tcp', R, 80, PATIENT_MS);
        expect(tcp).toMatchObject({ result: 'connected', data: 'hi', local: C });
        expect(await srv.next((e) => e.ev === 'tcp')).toEqual({ ev: 'tcp', port: 8080, local: S, localPort: 8080, remote: C });
        // Straight to the server, not DNATed: the FORWARD policy drops it.
        expect((await attempt(w, c, 'tcp', S, 8080, SILENT_MS)).result).toBe('timeout');
        expect((await counters(r, family, 'PREROUTING', 'nat')).rules[0]!.packets).toBe(1n);
        expect((await counters(r, family, 'FORWARD')).rules[1]!.packets).toBe(1n);
      });

      it('MASQUERADE on a forwarding router: the server sees the router as the source', async (ctx) => {
        const w = new World(ctx, kind);
        const { c, r, s } = await routed(w, false); // the server has no route back to the client
        const S = ip(family, 2, 2);
        const srv = await serve(w, s, [
          { proto: 'tcp', host: S, port: 8080 },
          { proto: 'udp', host: S, port: 5300 },
        ]);
        expect((await attempt(w, c, 'tcp', S, 8080, SILENT_MS)).result).toBe('timeout');
        await commit(r, family, 'nat', (t) => t.append('POSTROUTING', '-o r1 -j MASQUERADE'));
        const [tcp, udp, pinged] = await Promise.all([
          attempt(w, c, 'tcp', S, 8080, PATIENT_MS),
          attempt(w, c, 'udp', S, 5300, PATIENT_MS),
          ping(w, c, family, S),
        ]);
        expect(tcp).toMatchObject({ result: 'connected', data: 'hi' });
        expect(udp).toMatchObject({ result: 'reply', data: 'ping' });
        expect(pinged.status).toBe(0);
        const router = ip(family, 2, 254);
        expect(await srv.next((e) => e.ev === 'tcp')).toMatchObject({ remote: router, local: S });
        expect(await srv.next((e) => e.ev === 'udp')).toMatchObject({ remote: router });
        expect(srv.events.every((e) => e.remote === router)).toBe(true);
        expect((await counters(r, family, 'POSTROUTING', 'nat')).rules[0]!.packets).toBe(3n); // one per connection
      });
    });

    describe(`counters, ${family}`, () => {
      const len = (size: number) => IP_HEADER[family] + ICMP_HEADER + size;

      it('rules count exactly the packets and bytes sent, and keep counting across commits', async (ctx) => {
        const w = new World(ctx, kind);
        const { a, b } = await pair(w);
        await commit(b, family, 'filter', (t) => {
          t.append('INPUT', `-s ${A} ${echo(family, 'request')} -j ACCEPT`).append('OUTPUT', `-d ${A} ${echo(family, 'reply')} -j ACCEPT`);
        });
        await commit(a, family, 'filter', (t) => t.append('OUTPUT', `-d ${B} ${echo(family, 'request')} -j ACCEPT`));
        const N = 5;
        const SIZE = 100;
        expect((await ping(w, a, family, B, { count: N, size: SIZE })).stdout).toContain(`${N} received`);
        const sent = { packets: n(N), bytes: n(N * len(SIZE)) };
        expect((await counters(b, family, 'INPUT')).rules).toEqual([sent]);
        expect((await counters(b, family, 'OUTPUT')).rules).toEqual([sent]); // the replies are as long as the requests
        expect((await counters(a, family, 'OUTPUT')).rules).toEqual([sent]);
        // The oracle reads the same numbers.
        await expectOracleAgrees(b, family);
        await expectOracleAgrees(a, family);
        expect(oracleSave(b, family, 'filter')).toMatch(new RegExp(`^\\[${N}:${N * len(SIZE)}\\] -A INPUT -s ${A.replace(/\./g, '\\.')}/`, 'm'));
        expect(oracleSave(a, family, 'filter')).toMatch(new RegExp(`^\\[${N}:${N * len(SIZE)}\\] -A OUTPUT -d `, 'm'));

        // A commit that leaves the rule alone keeps its counters, even those the
        // kernel counted after the snapshot was read, and the kernel goes on counting.
        const snapshot = await Table.open('filter', { family, netns: b.ns, backend: backend(b) });
        const M = 3;
        const SIZE2 = 300;
        expect((await ping(w, a, family, B, { count: M, size: SIZE2 })).stdout).toContain(`${M} received`);
        await snapshot.insert('INPUT', '-p tcp --dport 9 -j DROP', 1).commit();
        const L = 2;
        expect((await ping(w, a, family, B, { count: L, size: SIZE })).stdout).toContain(`${L} received`);
        expect((await counters(b, family, 'INPUT')).rules).toEqual([
          { packets: 0n, bytes: 0n },
          { packets: n(N + M + L), bytes: n((N + L) * len(SIZE) + M * len(SIZE2)) },
        ]);
        await expectOracleAgrees(b, family);
        // Zeroed through the library, it starts again from nothing.
        await commit(b, family, 'filter', (t) => t.zero('INPUT', 2));
        expect((await ping(w, a, family, B, { count: 2, size: SIZE })).status).toBe(0);
        expect((await counters(b, family, 'INPUT')).rules[1]).toEqual({ packets: 2n, bytes: n(2 * len(SIZE)) });
        expect(oracleSave(b, family, 'filter')).toContain(`[2:${2 * len(SIZE)}] -A INPUT -s ${A}`);
      });

      it('policies count exactly the packets that no rule matched, accepted or dropped', async (ctx) => {
        const w = new World(ctx, kind);
        const { a, b } = await pair(w);
        const proto = icmpProto(family);
        const type = family === 'ipv4' ? '--icmp-type' : '--icmpv6-type';
        // Everything but echo requests is taken by a rule, so the policy sees exactly the pings.
        await commit(b, family, 'filter', (t) => {
          t.append('INPUT', `! -p ${proto} -j ACCEPT`)
            .append('INPUT', `-p ${proto} ! ${type} echo-request -j ACCEPT`)
            .setPolicy('INPUT', 'ACCEPT', { packets: 0n, bytes: 0n });
        });
        const N = 4;
        const SIZE = 200;
        expect((await ping(w, a, family, B, { count: N, size: SIZE })).stdout).toContain(`${N} received`);
        const accepted = await counters(b, family, 'INPUT');
        expect(accepted.policy).toEqual({ packets: n(N), bytes: n(N * len(SIZE)) });
        expect(oracleSave(b, family, 'filter')).toContain(`:INPUT ACCEPT [${N}:${N * len(SIZE)}]`);
        await expectOracleAgrees(b, family);

        await commit(b, family, 'filter', (t) => t.setPolicy('INPUT', 'DROP', { packets: 0n, bytes: 0n }));
        const M = 3;
        const lost = await ping(w, a, family, B, { count: M, size: SIZE, wait: 1 });
        expect(lost.status).toBe(1);
        expect(lost.stdout).toContain(`${M} packets transmitted, 0 received`);
        const dropped = await counters(b, family, 'INPUT');
        expect(dropped.policy).toEqual({ packets: n(M), bytes: n(M * len(SIZE)) });
        expect(oracleSave(b, family, 'filter')).toContain(`:INPUT DROP [${M}:${M * len(SIZE)}]`);
        await expectOracleAgrees(b, family);
      });
    });
  }
});
