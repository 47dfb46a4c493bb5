/**
 * The nf_tables backend, write side: what iptc-node writes into an
 * iptables-nft table is what iptables-nft writes for the same lines,
 * bytecode for bytecode (`nft --debug=netlink list table`), and saves as
 * iptables-nft-save saves it. Twin scratch namespaces: the oracle
 * (iptables-nft, iptables-nft-restore) in one, iptc-node in the other.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyCommand, IptcError, restore, restoreSync, Table, type FamilyName } from '../src/index.js';
import { splitWords } from '../src/words.js';
import { FIXTURES } from './fixtures.js';
import { nftTool, runToEnd, scratchPerTest, stripComments, withCounters, type Scratch } from './helpers.js';
import { tutorial } from './tutorial-commands.js';
import { randomCommand, seeded } from './sequences.js';
import type { TableName } from '../src/names.js';

const ns = scratchPerTest();
const nftFamily = (family: FamilyName) => (family === 'ipv4' ? 'ip' : 'ip6');

function nftSave(s: Scratch, family: FamilyName, table: string): string {
  return stripComments(s.sh(`${nftTool(family, '-save')} -c -t ${table}`));
}

/** The table's bytecode as nft prints it, rule handles left out (each namespace numbers its own). */
function bytecode(s: Scratch, family: FamilyName, table: string): string {
  const r = s.try(`nft --debug=netlink list table ${nftFamily(family)} ${table}`);
  if (r.status !== 0) return `(no table: ${r.stderr.trim()})`;
  return r.stdout.replace(/^(ip6? \S+ \S+) \d+ \d+$/gm, '$1').replace(/^(ip6? \S+ \S+) \d+$/gm, '$1');
}

/** The ruleset as nft lists it: chains, hooks, priorities, policies. */
const ruleset = (s: Scratch) => s.sh('nft list ruleset');

/** The same start in a twin namespace, changed there by iptables-nft commands: what iptc-node must leave. */
function oracleOf(setup: (o: Scratch) => void, commands: string[]): Scratch {
  const o = ns();
  setup(o);
  for (const c of commands) o.sh(`${nftTool('ipv4', '')} ${c}`);
  return o;
}

/** A tutorial command without its table option, as applyCommand takes it. */
const rest = (cmd: string) => cmd.replace(/^-t \S+ /, '');

describe('iptables-nft tables written through iptc-node', () => {
  it('a zeroed rule counts from zero at the commit, as iptables-nft -Z leaves it, with packets between the read and the commit', async () => {
    const [ref, ours] = [ns(), ns()];
    for (const s of [ref, ours]) {
      s.sh('ip link set lo up');
      s.sh(`${nftTool('ipv4', '')} -A OUTPUT -o lo -p icmp`); // counts, and goes on
      s.sh(`${nftTool('ipv4', '')} -A OUTPUT -o lo -j ACCEPT`);
      s.sh('ping -c 2 -i 0.01 -W 1 127.0.0.1');
    }
    const rules = (s: Scratch) => nftSave(s, 'ipv4', 'filter').split('\n').filter((l) => l.includes('-A OUTPUT'));
    const t = await Table.open('filter', { netns: ours.ns, backend: 'nft' });
    for (const s of [ref, ours]) s.sh('ping -c 3 -i 0.01 -W 1 127.0.0.1'); // after the read
    // Another table changed meanwhile: the commit reads this one again (the generation moved).
    for (const s of [ref, ours]) s.sh(`${nftTool('ipv4', '')} -t nat -A OUTPUT -j ACCEPT`);
    ref.sh(`${nftTool('ipv4', '')} -Z OUTPUT 1`);
    t.zero('OUTPUT', 1);
    await t.commit();
    expect(rules(ours)).toEqual(rules(ref));
    // The same through Table.update, whose read this process may answer from what it last wrote.
    for (const s of [ref, ours]) s.sh('ping -c 2 -i 0.01 -W 1 127.0.0.1');
    await Table.update('filter', { netns: ours.ns, backend: 'nft' }, (u) => {
      ours.sh('ping -c 2 -i 0.01 -W 1 127.0.0.1');
      u.zero('OUTPUT', 1);
    });
    ref.sh('ping -c 2 -i 0.01 -W 1 127.0.0.1');
    ref.sh(`${nftTool('ipv4', '')} -Z OUTPUT 1`);
    expect(rules(ours)).toEqual(rules(ref));
    expect(rules(ours)[0]).toMatch(/^\[0:0\] /);
    expect(rules(ours)[1]).toMatch(/^\[(\d+):/);
    expect(rules(ours)[1]).not.toMatch(/^\[0:0\]/);
  });

  it('every fixture restores to the bytecode iptables-nft-restore writes, with counters, both families', async () => {
    let compared = 0;
    for (const f of FIXTURES) {
      const oracle = ns();
      // (ip6tables-nft-restore 1.8.9 drops the counters of -c; iptc-node keeps
      // them: compared without, and checked on their own below.)
      const text = f.family === 'ipv4' ? withCounters(f.text) : f.text;
      if (oracle.try(`${nftTool(f.family, '-restore')} -c`, text).status !== 0) continue;
      const s = ns();
      await restore(text, { family: f.family, netns: s.ns, counters: true, backend: 'nft' });
      const what = `${f.family} ${f.table}`;
      expect(bytecode(s, f.family, f.table), what).toBe(bytecode(oracle, f.family, f.table));
      expect(nftSave(s, f.family, f.table), what).toBe(nftSave(oracle, f.family, f.table));
      expect(ruleset(s), what).toBe(ruleset(oracle));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(FIXTURES.length - 2);
  });

  it('restore -n, -T and -c agree with iptables-nft-restore on top of a table that has rules (every fixture, IPv4)', async () => {
    const base = '*filter\n:INPUT DROP [0:0]\n:keep - [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -j keep\n-A keep -s 192.0.2.1 -j ACCEPT\nCOMMIT\n';
    let compared = 0;
    for (const f of FIXTURES.filter((x) => x.family === 'ipv4')) {
      const text = withCounters(f.text);
      for (const flags of [['-n'], ['-n', '-c'], ['-c', '-T', f.table], ['-T', 'raw']]) {
        const oracle = ns();
        oracle.sh(nftTool('ipv4', '-restore'), base);
        if (oracle.try(`${nftTool('ipv4', '-restore')} ${flags.join(' ')}`, text).status !== 0) continue;
        const s = ns();
        s.sh(nftTool('ipv4', '-restore'), base);
        const only = flags.includes('-T') ? (flags[flags.indexOf('-T') + 1] as TableName) : undefined;
        await restore(text, { netns: s.ns, backend: 'nft', noflush: flags.includes('-n'), counters: flags.includes('-c'), ...(only ? { table: only } : {}) });
        const what = `${f.table} ${flags.join(' ')}`;
        for (const table of ['filter', f.table]) {
          expect(nftSave(s, 'ipv4', table), what).toBe(nftSave(oracle, 'ipv4', table));
          expect(bytecode(s, 'ipv4', table), what).toBe(bytecode(oracle, 'ipv4', table));
        }
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10);
  });

  for (const family of ['ipv4', 'ipv6'] as const) {
    it(`the tutorial's commands, one commit each, give what ${nftTool(family, '')} gives (${family})`, () => {
      const oracle = ns();
      const s = ns();
      let done = 0;
      for (const cmd of tutorial(family)) {
        const table = (/^-t (\S+)/.exec(cmd)?.[1] ?? 'filter') as TableName;
        const want = oracle.try(`${nftTool(family, '')} ${cmd}`);
        let refused: unknown;
        try {
          Table.updateSync(table, { family, netns: s.ns, backend: 'nft' }, (t) => applyCommand(t, rest(cmd)));
        } catch (e) {
          refused = e;
        }
        if (want.status !== 0) {
          expect(refused, `${cmd}: iptables-nft refused it (${want.stderr.trim()})`).toBeInstanceOf(IptcError);
          continue;
        }
        expect(refused, cmd).toBeUndefined();
        expect(nftSave(s, family, table), cmd).toBe(nftSave(oracle, family, table));
        expect(bytecode(s, family, table), cmd).toBe(bytecode(oracle, family, table));
        done++;
      }
      expect(done).toBeGreaterThan(10);
    });
  }

  it('a commit touches only what changed: untouched rules keep their handles and go on counting', async () => {
    const setup = (x: Scratch) =>
      x.sh(`${nftTool('ipv4', '-restore')} -c`, '*filter\n:INPUT ACCEPT [0:0]\n[1:10] -A INPUT -s 10.0.0.1 -j ACCEPT\n[2:20] -A INPUT -s 10.0.0.2 -j ACCEPT\n[3:30] -A INPUT -s 10.0.0.3 -j ACCEPT\nCOMMIT\n');
    const s = ns();
    setup(s);
    const handles = () => Object.fromEntries([...s.sh('nft -a list chain ip filter INPUT').matchAll(/saddr (\S+) .*# handle (\d+)/g)].map((m) => [m[1], m[2]]));
    const before = handles();
    await Table.update('filter', { netns: s.ns, backend: 'nft' }, (t) => {
      t.insert('INPUT', '-s 10.0.0.9 -j DROP', 2);
      t.delete('INPUT', 3); // 10.0.0.2, now third
      t.append('INPUT', '-s 10.0.0.4 -j ACCEPT');
    });
    const after = handles();
    expect(after['10.0.0.1']).toBe(before['10.0.0.1']);
    expect(after['10.0.0.3']).toBe(before['10.0.0.3']);
    expect(after['10.0.0.2']).toBeUndefined();
    // As iptables-nft leaves the same table after the same three commands, counters included.
    const oracle = oracleOf(setup, ['-I INPUT 2 -s 10.0.0.9 -j DROP', '-D INPUT 3', '-A INPUT -s 10.0.0.4 -j ACCEPT']);
    expect(nftSave(s, 'ipv4', 'filter')).toBe(nftSave(oracle, 'ipv4', 'filter'));
    expect(bytecode(s, 'ipv4', 'filter')).toBe(bytecode(oracle, 'ipv4', 'filter'));
  });

  for (const family of ['ipv4', 'ipv6'] as const) {
    it(`seeded random command sequences agree with ${nftTool(family, '')}, table and bytecode after every command (${family})`, () => {
      const oracle = ns();
      const s = ns();
      const rnd = seeded(family === 'ipv4' ? 7 : 11);
      let agreed = 0;
      for (let i = 0; i < 150; i++) {
        const cmd = randomCommand(rnd, family);
        const want = oracle.try(`${nftTool(family, '')} ${cmd}`);
        let refused: unknown;
        try {
          Table.updateSync('filter', { family, netns: s.ns, backend: 'nft' }, (t) => applyCommand(t, splitWords(cmd)));
        } catch (e) {
          refused = e;
        }
        const what = `command ${i}: ${cmd}`;
        if (want.status !== 0) expect(refused, `${what}: iptables-nft refused it (${want.stderr.trim()})`).toBeInstanceOf(IptcError);
        else expect(refused, what).toBeUndefined();
        expect(nftSave(s, family, 'filter'), what).toBe(nftSave(oracle, family, 'filter'));
        expect(bytecode(s, family, 'filter'), what).toBe(bytecode(oracle, family, 'filter'));
        if (want.status === 0) agreed++;
      }
      expect(agreed).toBeGreaterThan(60);
    });
  }

  it('a snapshot keeps its rules\' counters, and policies with theirs', async () => {
    const setup = (x: Scratch) =>
      x.sh(`${nftTool('ipv4', '-restore')} -c`, '*filter\n:INPUT DROP [7:700]\n[5:500] -A INPUT -s 10.0.0.1 -j ACCEPT\n[6:600] -A INPUT -s 10.0.0.2 -j ACCEPT\nCOMMIT\n');
    const s = ns();
    setup(s);
    const t = await Table.open('filter', { netns: s.ns, backend: 'nft' });
    expect(t.writable).toBe(true);
    t.append('INPUT', '-s 10.0.0.3 -j ACCEPT');
    t.delete('INPUT', 1);
    await t.commit();
    const oracle = oracleOf(setup, ['-A INPUT -s 10.0.0.3 -j ACCEPT', '-D INPUT 1']);
    expect(nftSave(s, 'ipv4', 'filter')).toBe(nftSave(oracle, 'ipv4', 'filter'));
  });

  it('a table changed since the snapshot was read is a conflict, and nothing is written', async () => {
    const s = ns();
    s.sh(`${nftTool('ipv4', '')} -A INPUT -j ACCEPT`);
    const t = await Table.open('filter', { netns: s.ns, backend: 'nft' });
    s.sh(`${nftTool('ipv4', '')} -A INPUT -j DROP`);
    const before = nftSave(s, 'ipv4', 'filter');
    t.append('INPUT', '-j RETURN');
    await expect(t.commit()).rejects.toMatchObject({ code: 'ERR_IPTC_CONFLICT' });
    expect(nftSave(s, 'ipv4', 'filter')).toBe(before);
    // Table.update reads again and applies the change to what is there.
    await Table.update('filter', { netns: s.ns, backend: 'nft' }, (u) => u.append('INPUT', '-j RETURN'));
    const oracle = oracleOf(() => {}, ['-A INPUT -j ACCEPT', '-A INPUT -j DROP', '-A INPUT -j RETURN']);
    expect(nftSave(s, 'ipv4', 'filter')).toBe(nftSave(oracle, 'ipv4', 'filter'));
  });

  it('Table.update reuses the table it last wrote only while nothing else changed the ruleset', async () => {
    const s = ns();
    const add = (rule: string) => Table.update('filter', { netns: s.ns, backend: 'nft' }, (t) => t.append('INPUT', rule));
    await add('-s 10.0.0.1 -j ACCEPT');
    await add('-s 10.0.0.2 -j ACCEPT'); // from what the first left, no dump
    s.sh(`${nftTool('ipv4', '')} -I INPUT -s 10.0.0.9 -j DROP`);
    await add('-s 10.0.0.3 -j ACCEPT'); // the generation moved: read again
    await Table.update('filter', { netns: s.ns, backend: 'nft' }, (t) => t.delete('INPUT', 2));
    const oracle = oracleOf(() => {}, ['-A INPUT -s 10.0.0.1 -j ACCEPT', '-A INPUT -s 10.0.0.2 -j ACCEPT', '-I INPUT -s 10.0.0.9 -j DROP', '-A INPUT -s 10.0.0.3 -j ACCEPT', '-D INPUT 2']);
    expect(nftSave(s, 'ipv4', 'filter')).toBe(nftSave(oracle, 'ipv4', 'filter'));
    expect(bytecode(s, 'ipv4', 'filter')).toBe(bytecode(oracle, 'ipv4', 'filter'));
  });

  it('a generation moved by another table does not make a conflict', async () => {
    const s = ns();
    s.sh(`${nftTool('ipv4', '')} -A INPUT -j ACCEPT`);
    const t = await Table.open('filter', { netns: s.ns, backend: 'nft' });
    s.sh('nft add table inet other');
    t.append('INPUT', '-j DROP');
    await t.commit();
    expect(nftSave(s, 'ipv4', 'filter')).toBe(nftSave(oracleOf(() => {}, ['-A INPUT -j ACCEPT', '-A INPUT -j DROP']), 'ipv4', 'filter'));
    expect(s.sh('nft list tables')).toContain('table inet other');
  });

  it('a rule the kernel refuses is named, and the table is left as it was', () => {
    const s = ns();
    s.sh(`${nftTool('ipv4', '')} -A INPUT -s 10.0.0.1 -j ACCEPT`);
    const before = bytecode(s, 'ipv4', 'filter');
    const t = Table.openSync('filter', { netns: s.ns, backend: 'nft' });
    t.append('INPUT', '-s 10.0.0.2 -j ACCEPT');
    // QUEUE: iptables-nft writes it through nft_compat, which has no such target.
    t.append('INPUT', '-j QUEUE');
    let err: unknown;
    try {
      t.commitSync();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IptcError);
    expect(err).toMatchObject({ code: 'ERR_IPTC_COMMIT', chain: 'INPUT', position: 3 });
    expect(bytecode(s, 'ipv4', 'filter')).toBe(before);
  });

  it('validate() and a dry-run restore check with nf_tables, and name the rules it refuses', async () => {
    const s = ns();
    s.sh(`${nftTool('ipv4', '')} -A INPUT -j ACCEPT`);
    const before = bytecode(s, 'ipv4', 'filter');
    const t = await Table.open('filter', { netns: s.ns, backend: 'nft' });
    t.append('INPUT', '-s 10.0.0.1 -j ACCEPT');
    t.append('INPUT', '-j QUEUE');
    t.append('INPUT', '-s 10.0.0.2 -j ACCEPT');
    const v = await t.validate();
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => [p.chain, p.position])).toEqual([['INPUT', 3]]);
    const [dry] = await restore('*filter\n-A INPUT -j QUEUE\n-A INPUT -j DROP\nCOMMIT\n', { netns: s.ns, backend: 'nft', dryRun: true });
    expect(dry!.problems.map((p) => [p.chain, p.position])).toEqual([['INPUT', 1]]);
    expect(bytecode(s, 'ipv4', 'filter')).toBe(before);
  });

  it('a restore keeps the policy of a base chain it does not list (iptables-nft-restore would drop the chain)', () => {
    const s = ns();
    s.sh(`${nftTool('ipv4', '')} -P FORWARD DROP`);
    restoreSync('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n', { netns: s.ns, backend: 'nft' });
    expect(nftSave(s, 'ipv4', 'filter')).toContain(':FORWARD DROP');
  });

  it('loses nothing with iptc-node and iptables-nft writing at once', async () => {
    const s = ns();
    const N = 200; // four processes, two of each kind
    const run = runToEnd;
    s.sh(`${nftTool('ipv4', '')} -A INPUT -j ACCEPT`); // (so that 'auto' would find nf_tables too)
    const shellLoop = (prefix: string) => `for i in $(seq 0 ${N - 1}); do iptables-nft -A INPUT -m comment --comment ${prefix}-$i -j ACCEPT || exit 1; done`;
    await Promise.all([
      run('node', ['test/workers/add-rules.mjs', s.ns.path, 'ipv4', 'filter', 'INPUT', 'lib1', String(N), 'nft']),
      run('node', ['test/workers/add-rules.mjs', s.ns.path, 'ipv4', 'filter', 'INPUT', 'lib2', String(N), 'nft']),
      run('nsenter', [`--net=${s.ns.path}`, 'sh', '-c', shellLoop('ipt1')]),
      run('nsenter', [`--net=${s.ns.path}`, 'sh', '-c', shellLoop('ipt2')]),
    ]);
    const lines = nftSave(s, 'ipv4', 'filter').split('\n').filter((l) => l.includes('-A INPUT -m comment'));
    expect(lines.length).toBe(4 * N);
    for (const p of ['lib1', 'lib2', 'ipt1', 'ipt2']) {
      const mine = lines.filter((l) => l.includes(`--comment ${p}-`)).map((l) => Number(/--comment \S+-(\d+)/.exec(l)![1]));
      // Each writer's rules, all there, in the order it added them.
      expect(mine).toEqual(Array.from({ length: N }, (_, i) => i));
    }
  });

  it('iptc restore and iptc apply write nf_tables with --backend nft', () => {
    const s = ns();
    const oracle = ns();
    const text = '*filter\n:INPUT DROP [0:0]\n:web - [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j web\n-A web -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n';
    oracle.sh(nftTool('ipv4', '-restore'), text);
    const iptc = (args: string[], input?: string) =>
      spawnSync(process.execPath, ['dist/cli/main.js', ...args, '--netns', s.ns.path], { input, encoding: 'utf8' });
    expect(iptc(['restore', '--backend', 'nft'], text).status).toBe(0);
    expect(nftSave(s, 'ipv4', 'filter')).toBe(nftSave(oracle, 'ipv4', 'filter'));
    expect(bytecode(s, 'ipv4', 'filter')).toBe(bytecode(oracle, 'ipv4', 'filter'));
    // apply: the fewest changes; the rules that stay keep their handles.
    const handle = () => /dport 22 .*# handle (\d+)/.exec(s.sh('nft -a list chain ip filter INPUT'))?.[1];
    const before = handle();
    const next = text.replace('-A web -s 10.0.0.0/8 -j ACCEPT', '-A web -s 192.168.0.0/16 -j ACCEPT');
    const r = iptc(['apply', '--backend', 'nft', '-'], next);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('-A web -s 192.168.0.0/16 -j ACCEPT');
    oracle.sh(nftTool('ipv4', '-restore'), next);
    expect(nftSave(s, 'ipv4', 'filter')).toBe(nftSave(oracle, 'ipv4', 'filter'));
    expect(handle()).toBe(before);
  });

  it('a table holding rules iptables cannot show is not written', async () => {
    const s = ns();
    s.sh(`${nftTool('ipv4', '')} -A INPUT -j ACCEPT`);
    s.sh('nft add rule ip filter INPUT ct state established accept');
    const t = await Table.open('filter', { netns: s.ns, backend: 'nft' });
    expect(t.writable).toBe(false);
    expect(() => t.append('INPUT', '-j DROP')).toThrow(expect.objectContaining({ code: 'ERR_IPTC_READONLY' }));
    await expect(restore('*filter\n-A INPUT -j DROP\nCOMMIT\n', { netns: s.ns, backend: 'nft' })).rejects.toMatchObject({ code: 'ERR_IPTC_READONLY' });
  });
});
