/**
 * Faults from outside: namespaces that go away under an open Table, tables
 * that do not exist, the xtables lock held forever by another process,
 * missing privileges, and worker threads (several at once, and ones that
 * leave while their work is still running). Every one must end in a clear
 * IptcError (or, for workers, in no lost update), never a crash or a hang,
 * and never a change to a table nobody asked to change.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { IptcError, Netns, Table, restoreSync, type FamilyName } from '../src/index.js';
import { scratch, scratchPerTest, tool, type Scratch } from './helpers.js';

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const WORKERS = fileURLToPath(new URL('./workers/', import.meta.url));
const ns = scratchPerTest();
/** libuv's thread pool, which every async call of the addon shares. */
const POOL = Number(process.env.UV_THREADPOOL_SIZE) || 4;
/** Keeps every pool thread busy for a while (as an app's fs or crypto work would). */
async function busyPool(): Promise<Promise<unknown>[]> {
  const { pbkdf2 } = await import('node:crypto');
  return Array.from({ length: POOL }, () => new Promise((r) => pbkdf2('x', 'y', 300_000, 64, 'sha512', r)));
}

/** What a call throws (it must throw an IptcError). */
function fails(fn: () => unknown): IptcError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'should have thrown an IptcError').toBeInstanceOf(IptcError);
  const e = err as IptcError;
  expect(typeof e.code).toBe('string');
  expect(e.message.length).toBeGreaterThan(0);
  return e;
}

async function rejects(p: Promise<unknown>): Promise<IptcError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'should have rejected with an IptcError').toBeInstanceOf(IptcError);
  return err as IptcError;
}

const RULES = '*filter\n:INPUT DROP [0:0]\n:svc - [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j svc\n-A svc -j RETURN\nCOMMIT\n';

// ---- namespaces ----------------------------------------------------------

const named: string[] = [];
function ipNetns(): string {
  const name = `iptc-faults-${process.pid}-${named.length}`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
  named.push(name);
  return name;
}
const ipNetnsDel = (name: string) => spawnSync('ip', ['netns', 'del', name]);
const inNamed = (name: string, cmd: string, input?: string) =>
  spawnSync('ip', ['netns', 'exec', name, 'sh', '-c', cmd], { encoding: 'utf8', input });

afterAll(() => {
  for (const n of named) if (existsSync(`/run/netns/${n}`)) ipNetnsDel(n);
});

describe('a namespace that goes away', () => {
  it('closed Netns: reading, reloading and committing give ERR_IPTC_NETNS', async () => {
    const s = ns();
    s.restore(RULES);
    const other = Netns.create();
    const t = Table.openSync('filter', { netns: other });
    t.append('INPUT', '-j ACCEPT');
    other.close();
    for (const e of [
      fails(() => t.commitSync()),
      await rejects(t.commit()),
      fails(() => t.reloadSync()),
      await rejects(t.reload()),
      fails(() => Table.openSync('filter', { netns: other })),
      await rejects(Table.open('filter', { netns: other })),
    ]) {
      expect(e.code).toBe('ERR_IPTC_NETNS');
      expect(e.message).toMatch(/closed/);
    }
    // The snapshot is still there to read, and nothing else moved.
    expect(t.rules('INPUT').length).toBe(1);
    expect(s.save()).toMatch(/-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT/);
  });

  it('ip netns del under a Table opened by name: commit and reload fail with ENOENT naming the namespace', async () => {
    const name = ipNetns();
    inNamed(name, `${tool('ipv4', '-restore')} -w`, RULES);
    const t = Table.openSync('filter', { netns: name });
    const u = await Table.open('filter', { family: 'ipv6', netns: `/run/netns/${name}` });
    t.append('INPUT', '-j ACCEPT');
    u.append('INPUT', '-j ACCEPT');
    expect(ipNetnsDel(name).status).toBe(0);
    for (const e of [fails(() => t.commitSync()), await rejects(u.commit()), fails(() => t.reloadSync()), await rejects(Table.open('filter', { netns: name }))]) {
      expect(e.code).toMatch(/^(ENOENT|ERR_IPTC_NETNS)$/);
      expect(e.message).toContain(name);
    }
    expect(t.dirty).toBe(true);
  });

  it('ip netns del while a Netns handle holds it: the namespace lives on, and commits still land in it', async () => {
    const name = ipNetns();
    const held = Netns.open(name);
    try {
      const t = Table.openSync('filter', { netns: held });
      expect(ipNetnsDel(name).status).toBe(0);
      t.append('INPUT', '-m comment --comment after-del -j ACCEPT');
      await t.commit();
      const r = spawnSync('nsenter', [`--net=${held.path}`, tool('ipv4', '-save'), '-t', 'filter'], { encoding: 'utf8' });
      expect(r.stdout).toMatch(/--comment after-del/);
    } finally {
      held.close();
    }
  });

  it('the /proc/PID/ns/net of a process that has exited: ENOENT naming the path', async () => {
    const child = spawn('unshare', ['-n', 'sleep', '30']);
    const path = `/proc/${child.pid}/ns/net`;
    // Until unshare has run, that path is this process's own namespace: wait it out.
    const own = statSync('/proc/self/ns/net').ino;
    for (let i = 0; i < 200 && (!existsSync(path) || statSync(path).ino === own); i++) await new Promise((r) => setTimeout(r, 10));
    expect(statSync(path).ino).not.toBe(own);
    const t = await Table.open('raw', { netns: path });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 50));
    t.append('OUTPUT', '-j ACCEPT');
    for (const e of [fails(() => t.commitSync()), await rejects(t.commit()), fails(() => Table.openSync('raw', { netns: path }))]) {
      expect(e.code).toMatch(/^(ENOENT|ESRCH|ERR_IPTC_NETNS)$/);
      expect(e.message).toContain(path);
    }
  });

  // C2: a namespace's fd is passed by number to the thread that does the work
  // later; close it meanwhile, and the next namespace opened gets the same
  // number, so the work happens there. Here a commit meant for `a` lands in
  // `b`, a namespace the Table never saw. Busy libuv threads (as any app
  // doing fs or crypto work has) make it certain.
  it('C2: closing a Netns while an async commit on it waits for a thread: the commit goes nowhere else', async () => {
    const a = Netns.create();
    const t = Table.openSync('filter', { netns: a });
    t.append('INPUT', '-m comment --comment meant-for-a -j ACCEPT');
    const pool = await busyPool();
    const p = t.commit().catch((e: unknown) => e);
    a.close();
    const b = Netns.create();
    try {
      const outcome = await p;
      await Promise.all(pool);
      const r = spawnSync('nsenter', [`--net=${b.path}`, tool('ipv4', '-save'), '-t', 'filter'], { encoding: 'utf8' });
      expect(r.stdout, 'the rule meant for a closed namespace landed in another one').not.toMatch(/meant-for-a/);
      if (outcome !== undefined) expect(outcome).toBeInstanceOf(IptcError);
    } finally {
      b.close();
    }
  });

  it('C2: closing a Netns while an async read of it waits for a thread: the read gives that namespace or an error', async () => {
    const pool = await busyPool();
    const a = Netns.create();
    const p = Table.open('filter', { netns: a }).catch((e: unknown) => e);
    a.close();
    const c = Netns.create();
    try {
      spawnSync('nsenter', [`--net=${c.path}`, tool('ipv4', ''), '-A', 'INPUT', '-m', 'comment', '--comment', 'only-in-c', '-j', 'ACCEPT']);
      const got = await p;
      await Promise.all(pool);
      if (got instanceof Table) expect(got.save(), 'read another namespace than the one asked for').not.toMatch(/only-in-c/);
      else expect(got).toBeInstanceOf(IptcError);
    } finally {
      c.close();
    }
  });
});

// ---- tables that are not there --------------------------------------------

describe('tables that do not exist', () => {
  it('a table name the kernel does not know (no module for it): ENOENT naming it, and no modprobe', () => {
    const s = ns();
    for (const family of ['ipv4', 'ipv6'] as FamilyName[]) {
      for (const name of ['nosuchtable', 'broute', 'filter2']) {
        // @ts-expect-error a name outside TableName, as a JavaScript caller may give it
        const e = fails(() => Table.openSync(name, { family, netns: s.ns }));
        expect(e.code).toMatch(/^(ENOENT|ERR_IPTC_ABSENT|ERR_IPTC_ARGUMENT)$/);
        expect(e.message).toContain(name);
      }
    }
    const e = fails(() => restoreSync('*nosuchtable\n-A INPUT -j ACCEPT\nCOMMIT\n', { netns: s.ns }));
    expect(e.message).toContain('nosuchtable');
    expect(e.line).toBe(1);
  });

  it('a table not made yet in a new namespace: ERR_IPTC_ABSENT when asked for, and reading makes nothing', () => {
    const s = ns();
    const e = fails(() => Table.openSync('raw', { netns: s.ns, ifMissing: 'error' }));
    expect(e.code).toBe('ERR_IPTC_ABSENT');
    expect(e.message).toMatch(/raw/);
    expect(s.sh('cat /proc/net/ip_tables_names').trim()).toBe('');
  });
});

// ---- the xtables lock ------------------------------------------------------

describe('the xtables lock held forever by another process', () => {
  let holder: ChildProcess | undefined;
  const lockFile = () => process.env.XTABLES_LOCKFILE!;
  const held = () => spawnSync('flock', ['-n', lockFile(), 'true']).status !== 0;
  // Set up before the lock is taken: the oracle's iptables-legacy-restore -w would wait for it too.
  const spaces: Scratch[] = [];
  const space = (i: number) => spaces[i]!;

  beforeAll(async () => {
    expect(lockFile(), 'test/setup.ts gives each file its own lock').toBeTruthy();
    for (let i = 0; i < 3; i++) {
      spaces.push(scratch());
      spaces[i]!.restore(RULES);
    }
    // Its own process group, so that flock and its sleep (which inherits the lock) end together.
    holder = spawn('flock', ['-x', lockFile(), 'sleep', '600'], { stdio: 'ignore', detached: true });
    for (let i = 0; i < 100 && !held(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(held()).toBe(true);
  });
  const release = async () => {
    if (!holder?.pid) return;
    const h = holder;
    holder = undefined;
    const gone = new Promise((r) => h.once('exit', r));
    process.kill(-h.pid!, 'SIGKILL');
    await gone;
    for (let i = 0; i < 100 && held(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  afterAll(async () => {
    await release();
    for (const x of spaces) x.close();
  });

  it('commit, commitSync, update, restore: ERR_IPTC_LOCK_TIMEOUT within the timeout; the table is as it was', async () => {
    const s = space(0);
    const before = s.save('ipv4', 'filter', true);
    const t = Table.openSync('filter', { netns: s.ns });
    t.append('INPUT', '-m comment --comment blocked -j ACCEPT');

    const timed = async (what: string, timeout: number, fn: () => unknown) => {
      const t0 = performance.now();
      let e: unknown;
      try {
        await fn();
      } catch (x) {
        e = x;
      }
      const ms = performance.now() - t0;
      expect(e, what).toBeInstanceOf(IptcError);
      expect((e as IptcError).code, what).toBe('ERR_IPTC_LOCK_TIMEOUT');
      expect((e as IptcError).message, what).toContain(lockFile());
      expect(ms, what).toBeGreaterThanOrEqual(timeout - 5);
      expect(ms, what).toBeLessThan(timeout + 1500);
    };
    await timed('commitSync', 300, () => t.commitSync({ lockTimeout: 300 }));
    await timed('commit', 300, () => t.commit({ lockTimeout: 300 }));
    await timed('commit, no wait', 0, () => t.commit({ lockTimeout: 0 }));
    let changed = false;
    await timed('update', 200, () => Table.update('filter', { netns: s.ns, lockTimeout: 200 }, () => void (changed = true)));
    await timed('updateSync', 200, () => Table.updateSync('filter', { netns: s.ns, lockTimeout: 200 }, () => void (changed = true)));
    await timed('restoreSync', 200, () => restoreSync(RULES, { netns: s.ns, lockTimeout: 200 }));
    expect(changed, 'the change ran without the lock').toBe(false);
    expect(s.save('ipv4', 'filter', true)).toBe(before);
    expect(t.dirty).toBe(true);
  });

  it('while an async commit waits for the lock, the event loop runs', async () => {
    const s = space(1);
    const t = Table.openSync('filter', { netns: s.ns });
    t.append('INPUT', '-j ACCEPT');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    await rejects(t.commit({ lockTimeout: 500 }));
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(10);
  });

  it('once the holder goes, the same snapshot commits', async () => {
    const s = space(2);
    const t = Table.openSync('filter', { netns: s.ns });
    t.append('INPUT', '-m comment --comment after-the-lock -j ACCEPT');
    await rejects(t.commit({ lockTimeout: 100 }));
    await release();
    expect(held()).toBe(false);
    await t.commit({ lockTimeout: 5000 });
    expect(s.save()).toMatch(/--comment after-the-lock/);
  });
});

// ---- privileges ------------------------------------------------------------

interface ChildOutcome {
  what: string;
  ok: boolean;
  iptc?: boolean;
  code?: string;
  message?: string;
}

/** Runs calls of the library in a child node with some capabilities dropped (setpriv, util-linux). */
function withoutCaps(drop: string[], netnsPath: string, backend: 'legacy' | 'nft' | 'auto' = 'auto'): ChildOutcome[] {
  const caps = drop.map((c) => `-${c}`).join(',');
  const code = `
    const lib = await import(${JSON.stringify(DIST)});
    const netns = ${JSON.stringify(netnsPath)};
    const backend = ${JSON.stringify(backend)};
    const out = [];
    const note = async (what, fn) => {
      try { await fn(); out.push({ what, ok: true }); }
      catch (e) { out.push({ what, ok: false, iptc: e instanceof lib.IptcError, code: e.code, message: e.message }); }
    };
    await note('openSync', () => lib.Table.openSync('filter', { netns, backend }));
    await note('open', () => lib.Table.open('filter', { family: 'ipv6', netns, backend }));
    await note('commitSync', () => { const t = lib.Table.openSync('raw', { netns, backend }); t.append('OUTPUT', '-j ACCEPT'); t.commitSync(); });
    await note('update', () => lib.Table.update('filter', { netns, backend }, (t) => { t.append('INPUT', '-j ACCEPT'); }));
    await note('restoreSync', () => lib.restoreSync('*mangle\\n-A INPUT -j ACCEPT\\nCOMMIT\\n', { netns, backend }));
    await note('Netns.create', () => lib.Netns.create().close());
    console.log(JSON.stringify(out));`;
  const r = spawnSync('setpriv', [`--inh-caps=${caps}`, `--bounding-set=${caps}`, '--', process.execPath, '--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ChildOutcome[];
}

/**
 * The namespace under a path any process may open: a bind mount under
 * /run/netns, as `ip netns attach` makes. (A /proc/PID/fd path of another
 * process needs ptrace rights, which a container may refuse whatever the
 * capabilities, and then the first error would be about the path.)
 */
let exposed = 0;
function exposed_path(s: Scratch): string {
  const path = `/run/netns/iptc-caps-${process.pid}-${exposed++}`;
  execFileSync('sh', ['-c', `mkdir -p /run/netns && touch ${path} && mount --bind ${s.ns.path} ${path}`]);
  onTestFinished(() => {
    execFileSync('sh', ['-c', `umount ${path}; rm -f ${path}`]);
  });
  return path;
}

describe('without the privileges', () => {
  it('without CAP_NET_ADMIN: EPERM, and the message names CAP_NET_ADMIN; nothing changes', () => {
    const s = ns();
    s.restore(RULES);
    s.restore(RULES, 'ipv6');
    const before = [s.save('ipv4', 'filter', true), s.save('ipv6', 'filter', true)];
    const out = withoutCaps(['net_admin'], exposed_path(s));
    for (const o of out.filter((x) => x.what !== 'Netns.create')) {
      expect(o, o.what).toMatchObject({ ok: false, iptc: true, code: 'EPERM' });
      expect(o.message, o.what).toMatch(/CAP_NET_ADMIN/);
    }
    expect([s.save('ipv4', 'filter', true), s.save('ipv6', 'filter', true)]).toEqual(before);
    expect(s.sh('cat /proc/net/ip_tables_names').split('\n').sort().join(' ').trim()).toBe('filter');
  });

  it('without CAP_NET_ADMIN, nf_tables: EPERM, and the message names CAP_NET_ADMIN; nothing changes', () => {
    const s = ns();
    s.sh('iptables-nft-restore', RULES);
    s.sh('ip6tables-nft-restore', RULES);
    const rules = () => s.sh('nft list ruleset');
    const before = rules();
    const out = withoutCaps(['net_admin'], exposed_path(s), 'nft');
    for (const o of out.filter((x) => x.what !== 'Netns.create')) {
      expect(o, o.what).toMatchObject({ ok: false, iptc: true, code: 'EPERM' });
      expect(o.message, o.what).toMatch(/CAP_NET_ADMIN/);
    }
    expect(rules()).toBe(before);
  });

  it('without CAP_SYS_ADMIN: entering or making a namespace fails with EPERM naming CAP_SYS_ADMIN', () => {
    const s = ns();
    s.restore(RULES);
    const before = s.save('ipv4', 'filter', true);
    const out = withoutCaps(['sys_admin'], exposed_path(s));
    for (const o of out) {
      expect(o, o.what).toMatchObject({ ok: false, iptc: true, code: 'EPERM' });
      expect(o.message, o.what).toMatch(/CAP_SYS_ADMIN/);
    }
    expect(s.save('ipv4', 'filter', true)).toBe(before);
  });
});

// ---- worker threads -------------------------------------------------------

interface Job {
  family: FamilyName;
  table: string;
  chain: string;
  prefix: string;
  count: number;
  mode?: 'read';
}

function runWorker(netns: string, job: Job): Promise<{ done: number; rules: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(`${WORKERS}table-updater.mjs`, { workerData: { netns, ...job } });
    let result: { done: number; rules: number } | undefined;
    w.on('message', (m) => (result = m));
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`worker ${job.prefix} exited with ${code}`))));
  });
}

describe('worker threads', () => {
  let s: Scratch;
  beforeAll(() => {
    s = scratch();
    s.restore(RULES);
    s.restore(RULES, 'ipv6');
    s.restore('*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n');
    s.restore('*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n');
  });
  afterEach(() => {
    // nothing to undo: each test below only adds rules with its own comments
  });
  afterAll(() => s?.close());

  /** Each job's rules are in the kernel exactly once. */
  function checkJobs(x: Scratch, jobs: Job[]): void {
    const saved = { ipv4: x.sh(tool('ipv4', '-save')), ipv6: x.sh(tool('ipv6', '-save')) };
    for (const j of jobs.filter((y) => !y.mode)) {
      for (let i = 0; i < j.count; i++) {
        const lines = saved[j.family].split('\n').filter((l) => l.startsWith(`-A ${j.chain} `) && l.includes(`--comment ${j.prefix}-${i} `));
        expect(lines.length, `${j.family} ${j.table} ${j.chain} ${j.prefix}-${i}`).toBe(1);
      }
    }
  }

  it('several at once, on the same table and on others, and the main thread: no crash, no lost update', async () => {
    // Fewer updates waiting for the lock at any time than the pool has threads: see C4.
    const N = 12;
    const update = (prefix: string, family: FamilyName, table: string, chain: string): Job => ({ family, table, chain, prefix, count: N });
    const phases: Job[][] = [
      [update('a1', 'ipv4', 'filter', 'INPUT'), update('a2', 'ipv4', 'filter', 'INPUT'), update('a3', 'ipv6', 'filter', 'INPUT'),
        { family: 'ipv4', table: 'filter', chain: 'INPUT', prefix: 'ra', count: 2 * N, mode: 'read' },
        { family: 'ipv6', table: 'filter', chain: 'INPUT', prefix: 'rb', count: 2 * N, mode: 'read' }],
      [update('b1', 'ipv4', 'filter', 'svc'), update('b2', 'ipv4', 'nat', 'PREROUTING'),
        { family: 'ipv4', table: 'mangle', chain: 'PREROUTING', prefix: 'rc', count: 2 * N, mode: 'read' }],
      [update('c1', 'ipv4', 'mangle', 'PREROUTING'), update('c2', 'ipv4', 'filter', 'INPUT'), update('c3', 'ipv6', 'filter', 'INPUT')],
    ];
    for (const [i, jobs] of phases.entries()) {
      const main = async () => {
        for (let k = 0; k < N; k++) {
          await Table.update('filter', { family: 'ipv6', netns: s.ns, lockTimeout: -1, retries: 1000 }, (t) => {
            t.append('INPUT', `-m comment --comment main${i}-${k} -j ACCEPT`);
          });
        }
      };
      // The main thread updates too in the phase with two updating workers.
      await Promise.all([...jobs.map((j) => runWorker(s.ns.path, j)), ...(i === 1 ? [main()] : [])]);
    }
    checkJobs(s, [...phases.flat(), { family: 'ipv6', table: 'filter', chain: 'INPUT', prefix: 'main1', count: N }]);
    expect(Table.openSync('filter', { netns: s.ns }).rules('INPUT').length).toBe(2 + 3 * N);
  });

  it('ten at once with the main thread, given a libuv pool large enough: no crash, no lost update', () => {
    const x = ns();
    x.restore(RULES);
    x.restore(RULES, 'ipv6');
    const r = spawnSync(process.execPath, [`${WORKERS}many-updaters.mjs`, x.ns.path, '10'], {
      encoding: 'utf8',
      timeout: 50_000,
      env: { ...process.env, UV_THREADPOOL_SIZE: '32' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    checkJobs(x, JSON.parse(r.stdout) as Job[]);
    expect(Table.openSync('filter', { netns: x.ns }).rules('INPUT').length).toBe(2 + 5 * 10);
  });

  // C4: Table.update waits for the xtables lock in a libuv pool thread. With
  // as many updates waiting as the pool has threads (4 by default), the one
  // holding the lock cannot get a thread for its read and commit: with
  // lockTimeout -1 the process hangs for ever; with a timeout, every waiter
  // gets ERR_IPTC_LOCK_TIMEOUT though no other process holds the lock.
  it('C4: one more concurrent Table.update than the pool has threads (5 by default): all succeed', async () => {
    const x = ns();
    const res = await Promise.allSettled(
      Array.from({ length: POOL + 1 }, (_, i) =>
        Table.update('filter', { netns: x.ns, lockTimeout: 1500 }, (t) => {
          t.append('INPUT', `-m comment --comment u${i} -j ACCEPT`);
        }),
      ),
    );
    expect(res.map((y) => (y.status === 'fulfilled' ? 'ok' : (y.reason as IptcError).code))).toEqual(Array(POOL + 1).fill('ok'));
  });

  it('a worker that returns while its async read is still running: the process lives', () => {
    const r = spawnSync(process.execPath, [`${WORKERS}exit-while-reading.mjs`, s.ns.path, '5', 'return'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok /);
  });

  // C3: when a worker's environment is torn down with an AsyncWorker still
  // pending, node-addon-api's OnWorkComplete cannot throw into the dying
  // environment and its Napi::Error escapes: std::terminate, SIGABRT, the
  // whole process is gone ("terminate called after throwing an instance of
  // 'Napi::Error'"; stack: Napi::Error::ThrowAsJavaScriptException <-
  // Napi::AsyncWorker::OnAsyncWorkComplete <- node::Environment::CleanupHandles
  // <- node::worker::Worker::Run).
  for (const how of ['exit', 'terminate', 'commit']) {
    it(`C3: a worker that ${how === 'terminate' ? 'is terminated' : how === 'exit' ? 'calls process.exit()' : 'exits during its commit'} while its async read is still running: the process lives`, () => {
      const r = spawnSync(process.execPath, [`${WORKERS}exit-while-reading.mjs`, s.ns.path, '5', how], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).not.toMatch(/terminate called/);
      expect(r.signal).toBe(null);
      expect(r.status).toBe(0);
    });
  }
});
