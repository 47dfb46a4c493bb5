import { describe, expect, it } from 'vitest';
import { restore, Table } from '../src/index.js';
import { scratchPerTest } from './helpers.js';

const ns = scratchPerTest();

describe('validate: the kernel checks a copy in a scratch namespace', () => {
  for (const family of ['ipv4', 'ipv6'] as const) {
    it(`reports every rule the kernel refuses, and only those, ${family}; the live table is untouched`, async () => {
      const live = ns();
      live.ipt('-A INPUT -p tcp --dport 22 -j ACCEPT', family);
      const before = live.save(family, 'filter', true);
      const t = await Table.open('filter', { family, netns: live.ns });
      t.append('INPUT', '-p tcp --dport 80 -j ACCEPT')
        .append('INPUT', '-j MASQUERADE') // nat only
        .append('OUTPUT', '-p udp -j REJECT --reject-with tcp-reset') // tcp only
        .createChain('a')
        .createChain('b')
        .append('a', '-j b')
        .append('b', '-j a') // a loop, once something jumps in
        .append('INPUT', '-j a')
        .append('FORWARD', '-j ACCEPT');
      const v = await t.validate();
      expect(v.ok).toBe(false);
      const pending = t.save();
      expect(live.save(family, 'filter', true)).toBe(before);
      // Oracle: iptables-legacy-restore refuses the pending table as a whole...
      const other = ns();
      expect(other.try(`${family === 'ipv4' ? 'iptables' : 'ip6tables'}-legacy-restore -w`, pending).status).not.toBe(0);
      // ...and takes it without exactly the rules reported.
      const refused = new Set(v.problems.map((p) => `-A ${p.chain} ${p.rule}`));
      expect(refused.size).toBe(3);
      const rest = pending.split('\n').filter((l) => !refused.has(l)).join('\n');
      other.restore(rest, family);
      // Each report names chain, position and the kernel's answer.
      for (const p of v.problems) {
        expect(t.rules(p.chain)[p.position - 1]).toBeDefined();
        expect(p.code).toMatch(/^E[A-Z]+$/);
        expect(p.errno).toBeGreaterThan(0);
      }
      // The loop is reported at the rule that closes it (the last of the table's order).
      expect(v.problems.map((p) => `${p.chain} ${p.position}`)).toEqual(['INPUT 3', 'OUTPUT 1', 'b 1']);
    });
  }

  it('passes a table the kernel takes', async () => {
    const live = ns();
    const t = await Table.open('nat', { netns: live.ns });
    t.append('POSTROUTING', '-o eth0 -j MASQUERADE').append('PREROUTING', '-p tcp --dport 80 -j DNAT --to-destination 10.0.0.1');
    expect(await t.validate()).toEqual({ table: 'nat', family: 'ipv4', ok: true, problems: [] });
  });

  it('restore(..., { dryRun: true }) validates each block and commits nothing', async () => {
    const live = ns();
    live.ipt('-A INPUT -j ACCEPT');
    const before = live.save('ipv4', 'filter', true);
    const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j DNAT --to-destination 10.0.0.1\nCOMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -j MASQUERADE\nCOMMIT\n';
    const report = await restore(text, { netns: live.ns, dryRun: true });
    expect(report.map((r) => [r.table, r.ok])).toEqual([['filter', false], ['nat', true]]);
    expect(report[0]!.problems).toMatchObject([{ chain: 'INPUT', position: 2, rule: '-j DNAT --to-destination 10.0.0.1' }]);
    expect(live.save('ipv4', 'filter', true)).toBe(before);
    expect(live.save('ipv4', 'nat')).not.toContain('MASQUERADE');
  });
});
