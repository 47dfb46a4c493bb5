import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply, applySync, diff, diffSync, formatDiff, formatPlan, IptcError, plan, planSync, Table, type FamilyName } from '../src/index.js';
import { commonSubsequence } from '../src/common-subsequence.js';
import { FIXTURES } from './fixtures.js';
import { scratchPerTest } from './helpers.js';
import type { TableName } from '../src/names.js';

const ns = scratchPerTest();

/** What iptables-legacy-restore makes of the text (onto `before`, or in a fresh namespace): the goal every apply must reach. */
function oracle(text: string, family: FamilyName, table = 'filter', before?: string): string {
  const s = ns();
  if (before) s.restore(before, family);
  s.restore(text, family);
  return s.save(family, table);
}

/**
 * Loads `before`, plans and applies `after` in one commit, and checks the
 * kernel against the oracle; the plan's text, fed to iptables-legacy-restore
 * --noflush on another copy of `before`, must give the same.
 */
async function converge(before: string, after: string, family: FamilyName, table: TableName = 'filter') {
  const want = oracle(after, family, table, before);
  const s = ns();
  s.restore(before, family);
  const t = await Table.open(table, { family, netns: s.ns });
  const p = await plan(t, after);
  expect(await apply(p)).toBe(t);
  expect(s.save(family, table)).toBe(want);
  expect((await diff(await Table.open(table, { family, netns: s.ns }), after)).equal).toBe(true);
  const viaTool = ns();
  viaTool.restore(before, family);
  viaTool.restore(formatPlan(p), family, '-n');
  expect(viaTool.save(family, table)).toBe(want);
  return p;
}

const head = (policies = 'ACCEPT ACCEPT ACCEPT', chains: string[] = []) => {
  const [i, f, o] = policies.split(' ');
  return ['*filter', `:INPUT ${i} [0:0]`, `:FORWARD ${f} [0:0]`, `:OUTPUT ${o} [0:0]`, ...chains.map((c) => `:${c} - [0:0]`)];
};
const block = (lines: string[]) => [...lines, 'COMMIT', ''].join('\n');

/** A fixture's rules reversed, thinned and partly doubled: many moves, removals and duplicates at once. */
function scrambled(text: string): string {
  const lines = text.split('\n');
  const rules = lines.filter((l) => l.startsWith('-A '));
  const out = rules.reverse().flatMap((r, i) => (i % 3 === 1 ? [] : i % 4 === 0 ? [r, r] : [r]));
  const rest = lines.filter((l) => !l.startsWith('-A ') && l !== 'COMMIT' && l !== '');
  return block([...rest, ...out]);
}

describe('commonSubsequence', () => {
  it('finds a longest common subsequence (checked against dynamic programming)', () => {
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 2000; round++) {
      const a = Array.from({ length: rnd(30) }, () => rnd(1 + (round % 6)));
      const b = Array.from({ length: rnd(30) }, () => rnd(1 + (round % 6)));
      const { keepA, keepB } = commonSubsequence(a, b);
      const ka = a.filter((_, i) => keepA[i]);
      expect(ka).toEqual(b.filter((_, j) => keepB[j]));
      const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
      for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
      }
      expect(ka.length).toBe(dp[a.length]![b.length]);
    }
  });

  it('stays fast on long sequences with few changes', () => {
    const a = Array.from({ length: 50_000 }, (_, i) => i);
    const b = [...a.slice(0, 20_000), -1, ...a.slice(20_001, 40_000), ...a.slice(40_005), 7];
    const t0 = Date.now();
    const { keepA } = commonSubsequence(a, b);
    expect(keepA.reduce((n, k) => n + k, 0)).toBe(49_994);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('falls back to a shorter common subsequence, still valid, when the sequences differ wildly', () => {
    const a = Array.from({ length: 20_000 }, (_, i) => i % 15_000);
    const b = [...a].reverse().map((x, i) => (i % 7 ? x : -x));
    const t0 = Date.now();
    const { keepA, keepB } = commonSubsequence(a, b);
    expect(Date.now() - t0).toBeLessThan(5000);
    const ka = a.filter((_, i) => keepA[i]);
    expect(ka).toEqual(b.filter((_, j) => keepB[j]));
    expect(ka.length).toBeGreaterThan(0);
  });
});

describe('diff', () => {
  it('reports chains added, removed, renamed, policies, and rules added, removed and moved, as data and as text', async () => {
    const s = ns();
    s.restore(
      block([
        ...head('ACCEPT ACCEPT ACCEPT', ['old', 'gone', 'idle']),
        '-A INPUT -p tcp --dport 22 -j ACCEPT',
        '-A INPUT -p udp --dport 53 -j ACCEPT',
        '-A INPUT -p udp --dport 53 -j ACCEPT',
        '-A INPUT -j old',
        '-A INPUT -j LOG --log-prefix "in: "',
        '-A old -s 10.0.0.1 -j DROP',
        '-A gone -j RETURN',
      ]),
    );
    const t = await Table.open('filter', { netns: s.ns });
    const want = block([
      ...head('DROP ACCEPT ACCEPT', ['new', 'fresh', 'idle']),
      '-A INPUT -j LOG --log-prefix "in: "',
      '-A INPUT --protocol tcp --dport 22 -j ACCEPT', // the same rule, spelled otherwise
      '-A INPUT -p udp -m udp --dport 53 -j ACCEPT',
      '-A INPUT -j new',
      '-A INPUT -p tcp --dport 443 -j ACCEPT',
      '-A new -s 10.0.0.1/32 -j DROP',
      '-A fresh -j ACCEPT',
    ]);
    const d = await diff(t, want);
    expect(d).toEqual({
      table: 'filter',
      family: 'ipv4',
      equal: false,
      chainsAdded: ['fresh'],
      chainsRemoved: ['gone'],
      chainsRenamed: [{ from: 'old', to: 'new' }],
      policies: [{ chain: 'INPUT', from: 'ACCEPT', to: 'DROP' }],
      rules: [
        {
          chain: 'INPUT',
          added: [{ rule: '-p tcp -m tcp --dport 443 -j ACCEPT', position: 5 }],
          removed: [{ rule: '-p udp -m udp --dport 53 -j ACCEPT', position: 2 }], // either duplicate would do
          moved: [{ rule: '-j LOG --log-prefix "in: "', from: 5, to: 1 }],
        },
        { chain: 'fresh', added: [{ rule: '-j ACCEPT', position: 1 }], removed: [], moved: [] },
        { chain: 'gone', added: [], removed: [{ rule: '-j RETURN', position: 1 }], moved: [] },
      ],
    });
    expect(formatDiff(d)).toBe(
      [
        'chain old renamed to new',
        '+ chain fresh',
        '- chain gone',
        ':INPUT policy ACCEPT -> DROP',
        '- -A INPUT -p udp -m udp --dport 53 -j ACCEPT',
        '+ -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT',
        '~ moved -A INPUT -j LOG --log-prefix "in: " (5 -> 1)',
        '+ -A fresh -j ACCEPT',
        '- -A gone -j RETURN',
        '',
      ].join('\n'),
    );
    // The snapshot is only read.
    expect(t.dirty).toBe(false);
  });

  it('compares two snapshots, counts duplicates, and is empty for equal tables', () => {
    const a = ns();
    const b = ns();
    a.restore(block([...head(), '-A INPUT -j ACCEPT', '-A INPUT -j ACCEPT', '-A INPUT -j DROP']));
    b.restore(block([...head(), '-A INPUT -j ACCEPT', '-A INPUT -j DROP', '-A INPUT -j ACCEPT', '-A INPUT -j ACCEPT']));
    const ta = Table.openSync('filter', { netns: a.ns });
    const tb = Table.openSync('filter', { netns: b.ns });
    const d = diffSync(ta, tb);
    // Two of a's rules stay (ACCEPT, ACCEPT); one more ACCEPT comes, and DROP goes between them.
    expect(d.rules).toEqual([{ chain: 'INPUT', added: [{ rule: '-j ACCEPT', position: 3 }], removed: [], moved: [{ rule: '-j DROP', from: 3, to: 2 }] }]);
    expect(formatDiff(d)).toBe('+ -A INPUT -j ACCEPT\n~ moved -A INPUT -j DROP (3 -> 2)\n');
    const same = diffSync(ta, Table.openSync('filter', { netns: a.ns }));
    expect(same.equal).toBe(true);
    expect(formatDiff(same)).toBe('');
  });

  it('pairs renamed chains through references, and empty chains only when both are referenced', () => {
    const s = ns();
    s.restore(block([...head('ACCEPT ACCEPT ACCEPT', ['a', 'b', 'e1', 'lone']), '-A INPUT -j a', '-A INPUT -j e1', '-A a -j b', '-A b -j RETURN']));
    const t = Table.openSync('filter', { netns: s.ns });
    const d = diffSync(t, block([...head('ACCEPT ACCEPT ACCEPT', ['a2', 'b2', 'e2', 'solo']), '-A INPUT -j a2', '-A INPUT -j e2', '-A a2 -j b2', '-A b2 -j RETURN']));
    // a pairs with a2 only once b is known to be b2.
    expect(d.chainsRenamed).toEqual([
      { from: 'b', to: 'b2' },
      { from: 'e1', to: 'e2' },
      { from: 'a', to: 'a2' },
    ]);
    expect(d.chainsAdded).toEqual(['solo']);
    expect(d.chainsRemoved).toEqual(['lone']);
    expect(d.rules).toEqual([]);
  });

  it('refuses snapshots of different tables or families, and text without the table', async () => {
    const s = ns();
    const f = Table.openSync('filter', { netns: s.ns });
    for (const other of [Table.openSync('nat', { netns: s.ns }), Table.openSync('filter', { netns: s.ns, family: 'ipv6' })]) {
      expect(() => diffSync(f, other)).toThrow(IptcError);
      expect(() => planSync(f, other)).toThrow(/cannot compare/);
    }
    await expect(diff(f, '*nat\nCOMMIT\n')).rejects.toMatchObject({ code: 'ERR_IPTC_PARSE', message: 'the text has no *filter block' });
    await expect(plan(f, '*filter\n-A INPUT -j NOPE\nCOMMIT\n')).rejects.toMatchObject({ code: 'ERR_IPTC_PARSE', line: 2 });
  });
});

for (const family of ['ipv4', 'ipv6'] as const) {
  const addr = family === 'ipv4' ? '10.0.0.1' : '2001:db8::1';
  const net = family === 'ipv4' ? '192.168.0.0/16' : 'fd00::/8';
  const icmp = family === 'ipv4' ? 'icmp' : 'ipv6-icmp';

  describe(`plan and apply, ${family}`, () => {
    it('moves, duplicates and policies: the kernel ends as iptables-restore of the text, in one commit', async () => {
      const before = block([
        ...head(),
        '-A INPUT -p tcp --dport 22 -j ACCEPT',
        '-A INPUT -p udp --dport 53 -j ACCEPT',
        '-A INPUT -p udp --dport 53 -j ACCEPT',
        `-A INPUT -s ${net} -p tcp --dport 80 -j ACCEPT`,
        '-A INPUT -m comment --comment "last one" -j DROP',
        '-A OUTPUT -j ACCEPT',
      ]);
      const after = block([
        ...head('DROP DROP ACCEPT'),
        '-A INPUT -m comment --comment "last one" -j DROP',
        '-A INPUT -p tcp --dport 22 -j ACCEPT',
        '-A INPUT -p udp --dport 53 -j ACCEPT',
        `-A INPUT -p ${icmp} -j ACCEPT`,
        '-A INPUT -p udp --dport 53 -j ACCEPT',
        '-A INPUT -p udp --dport 53 -j ACCEPT',
        `-A INPUT -s ${net} -p tcp --dport 80 -j ACCEPT`,
      ]);
      const p = await converge(before, after, family);
      // Fewest edits: four rules stay; LAST moves up; ICMP and one more duplicate come; OUTPUT's rule goes.
      // (Which duplicate counts as the new one is the algorithm's choice.)
      expect(p.steps.filter((x) => !x.startsWith('-I'))).toEqual([
        '-P INPUT DROP',
        '-P FORWARD DROP',
        '-D INPUT -m comment --comment "last one" -j DROP',
        '-D OUTPUT -j ACCEPT',
      ]);
      expect(p.steps.filter((x) => x.startsWith('-I')).map((x) => x.replace(/^-I INPUT \d+ /, '')).sort()).toEqual(
        ['-m comment --comment "last one" -j DROP', `-p ${icmp} -j ACCEPT`, '-p udp -m udp --dport 53 -j ACCEPT'].sort(),
      );
      expect(p.steps).toContain('-I INPUT 1 -m comment --comment "last one" -j DROP');
      expect(p.steps).toContain(`-I INPUT 4 -p ${icmp} -j ACCEPT`);
      expect(formatPlan(p)).toBe(['*filter', ...p.steps, 'COMMIT', ''].join('\n'));
    });

    it('user chains: created, deleted while referenced, renamed (nested), emptied', async () => {
      const before = block([
        ...head('ACCEPT ACCEPT ACCEPT', ['a', 'b', 'gone', 'ref', 'keep']),
        '-A INPUT -j a',
        '-A INPUT -j gone',
        '-A INPUT -j keep',
        '-A FORWARD -g ref',
        `-A a -s ${addr} -j b`,
        '-A b -j RETURN',
        '-A gone -j ACCEPT',
        '-A ref -j gone',
        '-A keep -p tcp -j ACCEPT',
      ]);
      const after = block([
        ...head('ACCEPT ACCEPT ACCEPT', ['a2', 'b2', 'fresh', 'keep']),
        '-A INPUT -j fresh',
        '-A INPUT -j a2',
        '-A INPUT -j keep',
        `-A a2 -s ${addr} -j b2`,
        '-A b2 -j RETURN',
        '-A fresh -j a2',
        '-A fresh -j LOG',
      ]);
      const p = await converge(before, after, family);
      expect(p.diff.chainsRenamed).toEqual([
        { from: 'b', to: 'b2' },
        { from: 'a', to: 'a2' },
      ]);
      expect(p.steps.slice(0, 3)).toEqual(['-E b b2', '-E a a2', '-N fresh']);
      expect(p.steps.slice(-4)).toEqual(['-F gone', '-F ref', '-X gone', '-X ref']);
    });

    it('between the fixtures, the empty table and scrambled fixtures', async () => {
      const empty = (table: string) => `*${table}\nCOMMIT\n`;
      for (const fx of FIXTURES.filter((f) => f.family === family)) {
        await converge(empty(fx.table), fx.text, family, fx.table);
        await converge(fx.text, scrambled(fx.text), family, fx.table);
        await converge(scrambled(fx.text), fx.text, family, fx.table);
        await converge(fx.text, empty(fx.table), family, fx.table);
      }
    });

    it('keeps the packet counters of every rule that stays, moved or in a renamed chain', async () => {
      const s = ns();
      s.sh('ip link set lo up');
      s.restore(
        block([
          ...head('ACCEPT ACCEPT ACCEPT', ['count']),
          '-A INPUT -i lo -j count',
          '-A INPUT -p tcp --dport 9 -j DROP',
          '-A INPUT -i lo -j ACCEPT',
          '-A OUTPUT -o lo -j ACCEPT',
          '-A OUTPUT -p tcp --dport 9 -j DROP',
          '-A OUTPUT -p udp --dport 9 -j DROP',
          `-A count -p ${icmp} -j RETURN`,
          '-A count -j RETURN',
        ]),
        family,
      );
      s.sh(family === 'ipv4' ? 'ping -c 3 -i 0.01 -W 1 127.0.0.1' : 'ping -6 -c 3 -i 0.01 -W 1 ::1');
      const after = block([
        ...head('DROP ACCEPT ACCEPT', ['counted']),
        '-A INPUT -p udp --dport 53 -j ACCEPT',
        '-A INPUT -i lo -j counted',
        '-A INPUT -i lo -j ACCEPT',
        '-A OUTPUT -p udp --dport 9 -j DROP',
        '-A OUTPUT -p tcp --dport 9 -j DROP',
        '-A OUTPUT -o lo -j ACCEPT',
        `-A counted -p ${icmp} -j RETURN`,
        '-A counted -j RETURN',
      ]);
      const counted = (save: string) =>
        save
          .split('\n')
          .filter((l) => l.startsWith('['))
          .map((l) => l.replace(/\bcount\b/g, 'counted'));
      const before = counted(s.save(family, 'filter', true));
      expect(before.filter((l) => !l.startsWith('[0:0]')).length).toBeGreaterThanOrEqual(4); // the pings were counted
      const t = await Table.open('filter', { family, netns: s.ns });
      const p = await plan(t, after);
      // -o lo -j ACCEPT moves down, and takes its counters along.
      expect(p.steps.some((x) => /^-A OUTPUT -c [1-9][0-9]* [0-9]+ -o lo -j ACCEPT$/.test(x))).toBe(true);
      await apply(p);
      expect(s.save(family)).toBe(oracle(after, family));
      const now = counted(s.save(family, 'filter', true));
      const removed = '-A INPUT -p tcp -m tcp --dport 9 -j DROP';
      for (const line of before) if (!line.endsWith(removed)) expect(now).toContain(line);
      expect(now).toContain('[0:0] -A INPUT -p udp -m udp --dport 53 -j ACCEPT');
      expect(now.some((l) => l.endsWith(removed))).toBe(false);
    });
  });
}

describe('apply', () => {
  it('with commit: false only changes the snapshot; the caller commits', async () => {
    const s = ns();
    const t = await Table.open('filter', { netns: s.ns });
    const p = planSync(t, block([...head(), '-A INPUT -j ACCEPT']));
    expect(applySync(p, { commit: false })).toBe(t);
    expect(t.dirty).toBe(true);
    expect(s.save()).not.toContain('-A INPUT');
    await t.commit();
    expect(s.save()).toContain('-A INPUT -j ACCEPT');
    expect(() => applySync(p)).toThrow(/already applied/);
  });

  it('an equal table gives no steps', async () => {
    const s = ns();
    s.ipt('-A INPUT -j ACCEPT');
    const t = await Table.open('filter', { netns: s.ns });
    const p = await plan(t, s.save());
    expect(p.steps).toEqual([]);
    expect(p.diff.equal).toBe(true);
    expect(formatPlan(p)).toBe('*filter\nCOMMIT\n');
    await apply(p);
  });

  it('refuses a plan whose snapshot changed since, committing nothing', async () => {
    const s = ns();
    s.ipt('-A INPUT -j DROP');
    const t = await Table.open('filter', { netns: s.ns });
    const p = await plan(t, block([...head(), '-A INPUT -j DROP', '-A INPUT -j ACCEPT']));
    t.append('INPUT', '-j RETURN');
    await expect(apply(p)).rejects.toMatchObject({ code: 'ERR_IPTC_ARGUMENT', message: expect.stringMatching(/changed after the plan/) });
    expect(s.save()).toBe(block([...head(), '-A INPUT -j DROP']));
  });

  it('fails on commit as any commit does when the table changed in the kernel', async () => {
    const s = ns();
    const t = await Table.open('filter', { netns: s.ns });
    const p = await plan(t, block([...head(), '-A INPUT -j ACCEPT']));
    s.ipt('-A OUTPUT -j ACCEPT');
    await expect(apply(p)).rejects.toMatchObject({ code: 'ERR_IPTC_CONFLICT' });
    expect(s.save()).not.toContain('-A INPUT');
  });
});

describe('iptc diff and iptc apply', () => {
  const iptc = (args: string[], input?: string) => spawnSync(process.execPath, ['dist/cli/main.js', ...args], { input, encoding: 'utf8' });
  const dir = mkdtempSync(join(tmpdir(), 'iptc-plan-'));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  for (const [family, six] of [['ipv4', []], ['ipv6', ['-6']]] as const) {
    it(`diff exits 0 when equal, 1 with the differences, 2 on errors (${family})`, () => {
      const s = ns();
      s.restore(block([...head(), '-A INPUT -p tcp --dport 22 -j ACCEPT']), family);
      const same = iptc(['diff', ...six, '--netns', s.ns.path, file(`same-${family}`, s.save(family))]);
      expect(same.status, same.stderr).toBe(0);
      expect(same.stdout).toBe('');
      const other = file(`other-${family}`, block([...head('DROP ACCEPT ACCEPT'), '-A INPUT -p tcp --dport 80 -j ACCEPT']));
      const d = iptc(['diff', ...six, '-t', 'filter', '--netns', s.ns.path, other]);
      expect(d.status, d.stderr).toBe(1);
      expect(d.stdout).toBe(
        ['*filter', ':INPUT policy ACCEPT -> DROP', '- -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '+ -A INPUT -p tcp -m tcp --dport 80 -j ACCEPT', ''].join('\n'),
      );
      for (const bad of [['-t', 'nat', other], [join(dir, 'no-such-file')], [file('bad', '*filter\n-A INPUT -j NOPE\nCOMMIT\n')], [], ['--bogus', other]]) {
        const r = iptc(['diff', ...six, '--netns', s.ns.path, ...bad]);
        expect(r.status, bad.join(' ')).toBe(2);
        expect(r.stderr).toMatch(/^iptc: .+\n$/);
      }
    });

    it(`apply --dry-run prints the plan and commits nothing; apply commits it (${family})`, () => {
      const s = ns();
      s.restore(block([...head(), '-A INPUT -p tcp --dport 22 -j ACCEPT', '-A INPUT -j DROP']), family);
      const before = s.save(family);
      const want = block([...head('ACCEPT ACCEPT DROP', ['web']), '-A INPUT -j web', '-A INPUT -p tcp --dport 22 -j ACCEPT', '-A INPUT -j DROP', '-A web -p tcp --dport 443 -j ACCEPT']);
      const plan = ['*filter', '-N web', '-P OUTPUT DROP', '-I INPUT 1 -j web', '-A web -p tcp -m tcp --dport 443 -j ACCEPT', 'COMMIT', ''].join('\n');
      const dry = iptc(['apply', ...six, '--dry-run', '--netns', s.ns.path, file(`want-${family}`, want)]);
      expect(dry.status, dry.stderr).toBe(0);
      expect(dry.stdout).toBe(plan);
      expect(s.save(family)).toBe(before);
      const r = iptc(['apply', ...six, '--netns', s.ns.path, '-'], want);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(plan);
      expect(s.save(family)).toBe(oracle(want, family));
      expect(iptc(['diff', ...six, '--netns', s.ns.path, '-'], want).status).toBe(0);
    });
  }

  it('without -t, every table of the file; --help for both', () => {
    const s = ns();
    const text = FIXTURES.filter((f) => f.family === 'ipv4' && (f.table === 'filter' || f.table === 'nat')).map((f) => f.text).join('');
    const path = file('two', text);
    const d = iptc(['diff', '--netns', s.ns.path, path]);
    expect(d.status).toBe(1);
    expect(d.stdout.split('\n').filter((l) => l.startsWith('*'))).toEqual(['*filter', '*nat']);
    const r = iptc(['apply', '--netns', s.ns.path, path]);
    expect(r.status, r.stderr).toBe(0);
    for (const table of ['filter', 'nat']) expect(s.save('ipv4', table)).toBe(oracle(text, 'ipv4', table));
    expect(iptc(['diff', '--netns', s.ns.path, path]).status).toBe(0);
    for (const cmd of ['diff', 'apply']) {
      const h = iptc([cmd, '--help']);
      expect(h.status).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`^usage: iptc ${cmd} `));
    }
    expect(iptc(['--help']).stdout).toMatch(/diff .*\n.*apply /);
  });
});
