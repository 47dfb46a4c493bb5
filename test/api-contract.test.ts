/**
 * What a program relies on: one list of error codes (the type, README and
 * the source agree), not-found and already-exists codes where iptables says
 * "No chain/target/match", "Bad rule" or "Chain already exists", unknown
 * option keys refused, async errors with the caller's stack, and the
 * idempotent helpers, each checked against iptables-legacy doing the same.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply, CounterReader, IptcError, listTable, plan, restore, restoreSync, saveAll, Table, type RestoreOptions } from '../src/index.js';
import { ERRNO_CODES, IPTC_ERROR_CODES } from '../src/errors.js';
import { scratchPerTest } from './helpers.js';

const ns = scratchPerTest();

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(IptcError);
    return (e as IptcError).code;
  }
  throw new Error('did not throw');
}

describe('error codes', () => {
  it('every ERR_IPTC code the source can raise is in IptcErrorCode and in README, and README lists no other', () => {
    const raised = new Set<string>();
    // (errors.ts declares them all: the codes raised are those used elsewhere.)
    for (const f of [...files('src'), ...files('src-native')].filter((f) => f !== join('src', 'errors.ts'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/ERR_IPTC_[A-Z_]+/g)) raised.add(m[0]);
    }
    const typed = new Set(Object.keys(IPTC_ERROR_CODES));
    expect([...raised].filter((c) => !typed.has(c))).toEqual([]);
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('### IptcError'), readme.indexOf('## The `iptc` command'));
    const listed = new Set([...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!));
    expect([...listed].sort()).toEqual([...typed].sort());
    for (const e of ERRNO_CODES) expect(section).toContain(`\`${e}\``);
    // None is declared and never raised.
    for (const c of typed) if (c.startsWith('ERR_IPTC_') && c !== 'ERR_IPTC_SYSTEM') expect(raised.has(c), c).toBe(true);
  });

  it('not-found and already-exists have their own codes, where iptables-legacy fails the same commands', () => {
    const s = ns();
    s.ipt('-N svc');
    s.ipt('-A INPUT -p tcp --dport 22 -j ACCEPT');
    const t = Table.openSync('filter', { netns: s.ns });
    const cases: [string, () => unknown, string][] = [
      ['-A NOCHAIN -j ACCEPT', () => t.append('NOCHAIN', '-j ACCEPT'), 'ERR_IPTC_NO_CHAIN'],
      ['-X NOCHAIN', () => t.deleteChain('NOCHAIN'), 'ERR_IPTC_NO_CHAIN'],
      ['-F NOCHAIN', () => t.flush('NOCHAIN'), 'ERR_IPTC_NO_CHAIN'],
      ['-D INPUT -p udp -j ACCEPT', () => t.delete('INPUT', '-p udp -j ACCEPT'), 'ERR_IPTC_NO_RULE'],
      ['-D INPUT 2', () => t.delete('INPUT', 2), 'ERR_IPTC_NO_RULE'],
      ['-R INPUT 2 -j DROP', () => t.replace('INPUT', 2, '-j DROP'), 'ERR_IPTC_NO_RULE'],
      ['-N svc', () => t.createChain('svc'), 'ERR_IPTC_EXISTS'],
      ['-E svc INPUT', () => t.renameChain('svc', 'INPUT'), 'ERR_IPTC_EXISTS'],
      ['-I INPUT 3 -j ACCEPT', () => t.insert('INPUT', '-j ACCEPT', 3), 'ERR_IPTC_ARGUMENT'],
    ];
    for (const [cmd, f, expected] of cases) {
      expect(s.try(`iptables-legacy -w ${cmd}`).status, cmd).toBe(1);
      expect(code(f), cmd).toBe(expected);
    }
    expect(code(() => listTable(t, { chain: 'NOCHAIN' }))).toBe('ERR_IPTC_NO_CHAIN');
  });
});

describe('error fields', () => {
  it('an error has the fields that apply to it and no others', () => {
    const s = ns();
    let e: unknown;
    try {
      Table.openSync('filter', { netns: s.ns }).append('NOCHAIN', '-j ACCEPT');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(IptcError);
    expect(Object.keys(e as object).sort()).toEqual(['chain', 'code', 'name', 'table']);
  });
});

describe('options', () => {
  it('an unknown option key is ERR_IPTC_ARGUMENT everywhere, never a default taken silently', async () => {
    const s = ns();
    const t = await Table.open('filter', { netns: s.ns });
    t.append('INPUT', '-j ACCEPT');
    await expect(t.commit({ lockTimout: 5 } as never)).rejects.toMatchObject({ code: 'ERR_IPTC_ARGUMENT', message: expect.stringMatching(/lockTimout/) });
    expect(code(() => t.commitSync({ lockTimout: 5 } as never))).toBe('ERR_IPTC_ARGUMENT');
    expect(code(() => t.save({ counter: true } as never))).toBe('ERR_IPTC_ARGUMENT');
    expect(code(() => listTable(t, { exactly: true } as never))).toBe('ERR_IPTC_ARGUMENT');
    expect(code(() => Table.openSync('filter', { netns: s.ns, famly: 'ipv6' } as never))).toBe('ERR_IPTC_ARGUMENT');
    expect(code(() => new CounterReader('filter', { netns: s.ns, backnd: 'nft' } as never))).toBe('ERR_IPTC_ARGUMENT');
    await expect(restore('*filter\nCOMMIT\n', { netns: s.ns, noFlush: true } as never)).rejects.toMatchObject({ code: 'ERR_IPTC_ARGUMENT' });
    await expect(saveAll({ netns: s.ns, counter: true } as never)).rejects.toMatchObject({ code: 'ERR_IPTC_ARGUMENT' });
    expect(s.save()).toBe('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n');
  });
});

describe('JSON', () => {
  it('rules(), chains() and counter reads go through JSON.stringify as they are, counters as exact decimal strings', async () => {
    const s = ns();
    s.restore('*filter\n:INPUT ACCEPT [3:4]\n[18446744073709551615:7] -A INPUT -s 10.0.0.1/32 -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n', 'ipv4', '-c');
    const t = await Table.open('filter', { netns: s.ns });
    const [rule] = JSON.parse(JSON.stringify(t.rules('INPUT'))) as { source: string; counters: unknown; matches: unknown[] }[];
    expect(rule).toMatchObject({ source: '10.0.0.1/32', counters: { packets: '18446744073709551615', bytes: '7' } });
    expect(rule!.matches).toEqual([{ name: 'tcp', options: [{ name: 'dport', values: ['22'], invert: false }] }]);
    expect(t.rules('INPUT')[0]!.counters.packets).toBe(18446744073709551615n);
    const [input] = JSON.parse(JSON.stringify(t.chains())) as { name: string; counters: unknown }[];
    expect(input).toEqual({ name: 'INPUT', builtin: true, references: 0, length: 1, policy: 'ACCEPT', counters: { packets: '3', bytes: '4' } });
    const reader = new CounterReader('filter', { netns: s.ns });
    const read = JSON.parse(JSON.stringify(await reader.read())) as { counters: string[]; time: string };
    reader.close();
    expect(read.counters[0]).toBe('18446744073709551615');
    expect(read.time).toMatch(/^\d+$/);
  });
});

describe('AbortSignal', () => {
  it('gives up a commit, an update and a restore waiting for a held lock, and a validate; nothing is changed', async () => {
    const s = ns();
    const lock = join(mkdtempSync(join(tmpdir(), 'iptc-lock-')), 'xtables.lock');
    const holder = spawn('flock', [lock, 'sleep', '30'], { stdio: 'ignore' });
    const saved = process.env.XTABLES_LOCKFILE;
    try {
      await new Promise((r) => setTimeout(r, 300));
      process.env.XTABLES_LOCKFILE = lock;
      const aborted = async (what: string, run: (signal: AbortSignal) => Promise<unknown>) => {
        const c = new AbortController();
        const t0 = Date.now();
        setTimeout(() => c.abort(new Error(`enough of ${what}`)), 150);
        const e = await run(c.signal).then(() => null, (x: unknown) => x as IptcError);
        expect(e, what).toBeInstanceOf(IptcError);
        expect(e!.code, what).toBe('ABORT_ERR');
        expect((e as { cause?: Error }).cause?.message).toBe(`enough of ${what}`);
        expect(Date.now() - t0, what).toBeLessThan(2000);
      };
      const t = await Table.open('filter', { netns: s.ns });
      t.append('INPUT', '-j DROP');
      await aborted('commit', (signal) => t.commit({ signal, lockTimeout: -1 }));
      await aborted('update', (signal) => Table.update('filter', { netns: s.ns, signal, lockTimeout: -1 }, (x) => x.append('INPUT', '-j DROP')));
      await aborted('restore', (signal) => restore('*filter\n-A INPUT -j DROP\nCOMMIT\n', { netns: s.ns, signal, lockTimeout: -1 }));
      await aborted('noflush restore', (signal) => restore('*filter\n-A INPUT -j DROP\nCOMMIT\n', { netns: s.ns, signal, noflush: true, lockTimeout: -1 }));
      expect(s.save()).toBe('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n');
    } finally {
      process.env.XTABLES_LOCKFILE = saved;
      holder.kill();
    }
    const t = await Table.open('filter', { netns: s.ns });
    t.append('INPUT', '-j ACCEPT');
    const c = new AbortController();
    c.abort();
    await expect(t.validate({ signal: c.signal })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await expect(t.commit({ signal: c.signal })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await expect(t.commit({ signal: 'soon' } as never)).rejects.toMatchObject({ code: 'ERR_IPTC_ARGUMENT' });
    // apply() takes a signal too, as its options' type says (it commits).
    const p = await plan(await Table.open('filter', { netns: s.ns }), '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n');
    await expect(apply(p, { signal: c.signal })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    // Any AbortSignal fits, as the declarations say: one that is not Node's own too.
    const fired = { aborted: true, reason: 'stop', addEventListener() {}, removeEventListener() {} };
    await expect(t.commit({ signal: fired })).rejects.toMatchObject({ code: 'ABORT_ERR', cause: 'stop' });
    // A signal that never fires changes nothing about a commit.
    await t.commit({ signal: new AbortController().signal });
    expect(s.save()).toBe('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n');
  });
});

describe('async errors', () => {
  it('carry the stack of the call that started them (a kernel refusal, a conflict)', async function callerOfCommit() {
    const s = ns();
    const t = await Table.open('filter', { netns: s.ns });
    s.ipt('-A INPUT -j ACCEPT');
    t.append('INPUT', '-j DROP');
    const e = await t.commit().then(
      () => null,
      (x: unknown) => x as IptcError,
    );
    expect(e?.code).toBe('ERR_IPTC_CONFLICT');
    expect(e!.stack).toMatch(/callerOfCommit/);
    expect(e!.stack!.split('\n')[0]).toBe(`IptcError: ${e!.message}`);
  });
});

describe('warnings and tracing', () => {
  it("libxtables' warnings reach the snapshot (parsed at once or at commit) and NODE_DEBUG=iptc, as iptables prints them", async () => {
    const s = ns();
    const theirs = s.try("iptables-legacy -w -A INPUT -i 'a b' -j ACCEPT").stderr.trim();
    expect(theirs).toMatch(/^Warning: weird character in interface/);
    const now = Table.openSync('filter', { netns: s.ns });
    now.append('INPUT', ['-i', 'a b', '-j', 'ACCEPT']);
    expect(now.warnings).toEqual([theirs]);
    const later = await Table.open('filter', { netns: s.ns });
    later.append('INPUT', ['-i', 'a b', '-j', 'ACCEPT']);
    expect(later.warnings).toEqual([]);
    await later.commit();
    expect(later.warnings).toEqual([theirs]);
    const script = `import('${join(process.cwd(), 'dist/index.js')}').then(async ({ Table }) => {
      const t = await Table.open('filter', { netns: '${s.ns.path}' });
      t.append('INPUT', ['-i', 'x y', '-j', 'DROP']);
      await t.commit();
    })`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'iptc' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^IPTC \d+: ipv4 filter: Warning: weird character in interface `x y'/m);
    expect(r.stderr).toMatch(/^IPTC \d+: commit ipv4 filter \(legacy\): 3 chains, 3 rules, 1 changes, [\d.]+ ms$/m);
  });
});

describe('idempotent helpers', () => {
  it('ensureChain, clearChain, appendUnique, insertUnique, deleteIfExists do what the usual iptables -C || -A scripts do', () => {
    const ref = ns();
    const ours = ns();
    const script = [
      '-N svc || true',
      '-N svc || true',
      '-C svc -p tcp --dport 80 -j ACCEPT || iptables-legacy -w -A svc -p tcp --dport 80 -j ACCEPT',
      '-C svc -p tcp --dport 80 -j ACCEPT || iptables-legacy -w -A svc -p tcp --dport 80 -j ACCEPT',
      '-C INPUT -j svc || iptables-legacy -w -I INPUT 1 -j svc',
      '-C INPUT -j svc || iptables-legacy -w -I INPUT 1 -j svc',
      '-C INPUT -p udp -j DROP && iptables-legacy -w -D INPUT -p udp -j DROP || true',
      '-N tmp || iptables-legacy -w -F tmp',
      '-A tmp -j RETURN',
      '-N tmp || iptables-legacy -w -F tmp',
    ];
    for (const line of script) ref.sh(`iptables-legacy -w ${line}`);
    const t = Table.openSync('filter', { netns: ours.ns });
    expect([t.ensureChain('svc'), t.ensureChain('svc')]).toEqual([true, false]);
    expect([t.appendUnique('svc', '-p tcp --dport 80 -j ACCEPT'), t.appendUnique('svc', '-p tcp --dport 80 -j ACCEPT')]).toEqual([true, false]);
    expect([t.insertUnique('INPUT', '-j svc'), t.insertUnique('INPUT', '-j svc')]).toEqual([true, false]);
    expect(t.deleteIfExists('INPUT', '-p udp -j DROP')).toBe(false);
    expect(t.deleteIfExists('NOCHAIN', '-j DROP')).toBe(false);
    t.clearChain('tmp');
    t.append('tmp', '-j RETURN');
    t.clearChain('tmp');
    expect(t.dirty).toBe(true);
    t.commitSync();
    expect(t.dirty).toBe(false);
    expect(ours.save()).toBe(ref.save());
    const again = Table.openSync('filter', { netns: ours.ns });
    expect(again.deleteIfExists('svc', '-p tcp --dport 80 -j ACCEPT')).toBe(true);
    again.commitSync();
    ref.ipt('-D svc -p tcp --dport 80 -j ACCEPT');
    expect(ours.save()).toBe(ref.save());
  });
});

describe('restore() gives what its overloads say', () => {
  it('dryRun true: one Validation per block; false or absent: undefined; restoreSync refuses dryRun (ERR_IPTC_ARGUMENT), committing nothing', async () => {
    const s = ns();
    const text = '*filter\n:FORWARD DROP [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n';
    const before = s.save();
    const dry: RestoreOptions = { netns: s.ns, dryRun: true };
    const checks = await restore(text, dry);
    expect(checks).toEqual([{ table: 'filter', family: 'ipv4', ok: true, problems: [] }]);
    expect(s.save()).toBe(before);
    // (A JavaScript caller may pass what the type leaves out.)
    expect(code(() => restoreSync(text, { netns: s.ns, dryRun: true } as RestoreOptions))).toBe('ERR_IPTC_ARGUMENT');
    expect(s.save()).toBe(before);
    expect(await restore(text, { netns: s.ns, dryRun: false })).toBeUndefined();
    expect(await restore(text, { netns: s.ns })).toBeUndefined();
    expect(s.save()).not.toBe(before);
  });
});
