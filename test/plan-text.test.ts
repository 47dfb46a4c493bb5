/**
 * Text given to diff(), plan() and `iptc apply` means what it means to
 * iptables-restore: applied onto the live table, so a built-in chain's
 * policy changes only where the text has its `:CHAIN POLICY` line (with and
 * without -n); plans delete by rule text, so a plan replayed later never
 * deletes a rule it did not mean; and reading text needs no namespace, so
 * a process with CAP_NET_ADMIN alone can diff and plan.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply, diff, formatPlan, plan, planSync, Table, tableFromText } from '../src/index.js';
import { scratchPerTest, tool } from './helpers.js';
import type { TableName } from '../src/names.js';

const ns = scratchPerTest();

const BUILTINS: Record<TableName, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** Every built-in chain closed (nat allows no DROP policy), a rule in each, and a user chain. */
function live(table: TableName): string {
  const policy = table === 'nat' ? 'ACCEPT' : 'DROP';
  const chains = BUILTINS[table]!;
  return [
    `*${table}`,
    ...chains.map((c) => `:${c} ${policy} [0:0]`),
    ':keep - [0:0]',
    ...chains.map((c) => `-A ${c} -m comment --comment "live ${c}" -j keep`),
    '-A keep -m comment --comment kept -j RETURN',
    'COMMIT',
    '',
  ].join('\n');
}

/** A file that lists one built-in chain and one rule for it. */
const oneChain = (table: string, chain: string) => `*${table}\n:${chain} ACCEPT [0:0]\n-A ${chain} -m comment --comment new -j ACCEPT\nCOMMIT\n`;

const iptc = (args: string[], input?: string) => spawnSync(process.execPath, ['dist/cli/main.js', ...args], { input, encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'iptc-plan-text-'));

for (const family of ['ipv4', 'ipv6'] as const) {
  describe(`text onto the live table, ${family}`, () => {
    it('a built-in chain keeps its policy unless the text lists it, as with iptables-legacy-restore (every chain of every table, with and without -n)', async () => {
      for (const [table, chains] of Object.entries(BUILTINS) as [TableName, string[]][]) {
        for (const chain of chains) {
          for (const noflush of [false, true]) {
            const file = oneChain(table, chain);
            const want = ns();
            want.restore(live(table), family);
            want.restore(file, family, noflush ? '-n' : '');
            const expected = want.save(family, table);
            const s = ns();
            s.restore(live(table), family);
            const t = await Table.open(table, { family, netns: s.ns });
            const p = await plan(t, file, { noflush });
            // Only the listed chain's policy changes (nat has no DROP policy to open).
            expect(p.steps.filter((x) => x.startsWith('-P')), `${table} ${chain} -n ${noflush}`).toEqual(table === 'nat' ? [] : [`-P ${chain} ACCEPT`]);
            await apply(p);
            expect(s.save(family, table), `${table} ${chain} -n ${noflush}`).toBe(expected);
            // Without -n the text is now what the table holds; with -n it would add its rule once more.
            expect((await diff(await Table.open(table, { family, netns: s.ns }), file, { noflush })).equal).toBe(!noflush);
          }
        }
        // The command does the same, for one chain of each table.
        const chain = chains[chains.length - 1]!;
        for (const noflush of [false, true]) {
          const path = join(dir, `${family}-${table}-${noflush}`);
          writeFileSync(path, oneChain(table, chain));
          const want = ns();
          want.restore(live(table), family);
          want.restore(oneChain(table, chain), family, noflush ? '-n' : '');
          const s = ns();
          s.restore(live(table), family);
          const flags = [...(family === 'ipv6' ? ['-6'] : []), ...(noflush ? ['-n'] : [])];
          const dry = iptc(['apply', ...flags, '--dry-run', '--netns', s.ns.path, path]);
          expect(dry.status, dry.stderr).toBe(0);
          expect(dry.stdout.split('\n').filter((l) => l.startsWith('-P'))).toEqual(table === 'nat' ? [] : [`-P ${chain} ACCEPT`]);
          const r = iptc(['apply', ...flags, '--netns', s.ns.path, path]);
          expect(r.status, r.stderr).toBe(0);
          expect(s.save(family, table), `iptc apply ${flags.join(' ')} ${table}`).toBe(want.save(family, table));
          expect(iptc(['diff', ...flags, '--netns', s.ns.path, path]).status).toBe(noflush ? 1 : 0);
        }
      }
    });

    it('a listed policy changes, and only that one', async () => {
      const file = '*filter\n:FORWARD ACCEPT [0:0]\n:OUTPUT DROP [0:0]\nCOMMIT\n';
      const s = ns();
      s.restore(live('filter'), family);
      const t = await Table.open('filter', { family, netns: s.ns });
      const p = await plan(t, file);
      expect(p.steps.filter((x) => x.startsWith('-P'))).toEqual(['-P FORWARD ACCEPT']);
      const want = ns();
      want.restore(live('filter'), family);
      want.restore(file, family);
      await apply(p);
      expect(s.save(family)).toBe(want.save(family));
    });

    it('a plan deletes by rule text: replayed after the table changed, it deletes the rules it meant', async () => {
      const rule = (n: number) => `-A INPUT -m comment --comment r${n} -j ACCEPT`;
      const before = ['*filter', ':INPUT ACCEPT [0:0]', rule(1), rule(2), rule(3), 'COMMIT', ''].join('\n');
      const s = ns();
      s.restore(before, family);
      const t = await Table.open('filter', { family, netns: s.ns });
      const p = await plan(t, ['*filter', ':INPUT ACCEPT [0:0]', rule(1), rule(3), 'COMMIT', ''].join('\n'));
      expect(p.steps).toEqual(['-D INPUT -m comment --comment r2 -j ACCEPT']);
      // Someone inserts a rule at the top; the plan, replayed, still deletes r2.
      s.ipt(`-I INPUT 1 -m comment --comment r0 -j ACCEPT`, family);
      s.restore(formatPlan(p), family, '-n');
      expect(s.save(family).split('\n').filter((l) => l.startsWith('-A'))).toEqual([0, 1, 3].map((n) => rule(n)));
    });

    it('duplicates: a later copy that goes is deleted by text without taking an earlier one', async () => {
      const a = '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT';
      const b = '-A INPUT -p udp -m udp --dport 53 -j ACCEPT';
      const c = '-A INPUT -j DROP';
      const cases: [string[], string[]][] = [
        [[a, b, a], [a, b]],
        [[a, b, a, c, a], [a, c, a]],
        [[a, a, b], [b, a]],
        [[b, a, a, c], [a, c, b, a]],
      ];
      for (const [from, to] of cases) {
        const text = (rules: string[]) => ['*filter', ':INPUT ACCEPT [0:0]', ...rules, 'COMMIT', ''].join('\n');
        const want = ns();
        want.restore(text(to), family);
        const s = ns();
        s.restore(text(from), family);
        const p = await plan(await Table.open('filter', { family, netns: s.ns }), text(to));
        expect(p.steps.some((x) => /^-D INPUT \d+$/.test(x))).toBe(false);
        // Replayed by iptables-legacy-restore -n, and applied by iptc-node: both give the text's table.
        const replay = ns();
        replay.restore(text(from), family);
        replay.restore(formatPlan(p), family, '-n');
        expect(replay.save(family), `${from.join(' | ')} -> ${to.join(' | ')}`).toBe(want.save(family));
        await apply(p);
        expect(s.save(family)).toBe(want.save(family));
      }
    });
  });
}

describe('text needs no namespace', () => {
  it('tableFromText reads text in memory; the copy cannot be committed', async () => {
    const t = await tableFromText('*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n');
    expect(t.chain('INPUT')?.policy).toBe('DROP');
    expect(t.chain('FORWARD')?.policy).toBe('ACCEPT');
    expect(t.save()).toBe('*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n');
    await expect(t.commit()).rejects.toMatchObject({ code: 'ERR_IPTC_ARGUMENT', message: expect.stringMatching(/cannot be committed/) });
    expect(() => t.reloadSync()).toThrow(/no kernel table/);
  });

  it('with CAP_NET_ADMIN alone (no CAP_SYS_ADMIN): diff, plan and apply with text work; validate() says CAP_SYS_ADMIN is missing', () => {
    const s = ns();
    s.restore('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n-A INPUT -j DROP\nCOMMIT\n');
    const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';
    const code = `
      const lib = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const text = ${JSON.stringify(text)};
      const t = await lib.Table.open('filter');
      const d = await lib.diff(t, text);
      const p = await lib.plan(t, text);
      const steps = p.steps;
      await lib.apply(p);
      let v;
      try { await (await lib.Table.open('filter')).validate(); v = 'validated'; } catch (e) { v = e.code + ': ' + e.message; }
      console.log(JSON.stringify({ equal: d.equal, steps, v }));`;
    const r = spawnSync(
      'nsenter',
      [`--net=${s.ns.path}`, 'setpriv', '--inh-caps=-sys_admin', '--bounding-set=-sys_admin', '--', process.execPath, '--input-type=module', '-e', code],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { equal: boolean; steps: string[]; v: string };
    expect(out.equal).toBe(false);
    expect(out.steps).toEqual(['-D INPUT -j DROP', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT']);
    expect(out.v).toMatch(/^EPERM: .*CAP_SYS_ADMIN/);
    expect(out.v).not.toMatch(/test|container/);
    const want = ns();
    want.restore('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n-A INPUT -j DROP\nCOMMIT\n');
    want.restore(text);
    expect(s.save()).toBe(want.save());
    expect(s.sh(`${tool('ipv4', '-save')}`)).toContain(':FORWARD DROP');
  });

  it('planSync takes the same options', () => {
    const s = ns();
    s.ipt('-A INPUT -j DROP');
    const t = Table.openSync('filter', { netns: s.ns });
    expect(planSync(t, '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n', { noflush: true }).steps).toEqual(['-A INPUT -j ACCEPT']);
    expect(() => planSync(t, '*filter\nCOMMIT\n', 5 as never)).toThrow(/options must be an object/);
  });
});
