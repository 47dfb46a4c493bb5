/**
 * Reading a table that does not exist must not create it (the kernel makes
 * a table on its first read): it reads as the empty table the kernel would
 * make, and appears only when something is committed to it.
 */
import { describe, expect, it } from 'vitest';
import { CounterReader, IptcError, Table, TABLES } from '../src/index.js';
import { scratchPerTest, type Scratch } from './helpers.js';

const ns = scratchPerTest();
const names = (s: Scratch, family: 'ipv4' | 'ipv6') =>
  s.try(`cat /proc/net/${family === 'ipv4' ? 'ip' : 'ip6'}_tables_names`).stdout.split('\n').filter(Boolean).sort();

describe('tables that do not exist yet', () => {
  for (const family of ['ipv4', 'ipv6'] as const) {
    it(`read as the empty table without creating it, ${family}`, async () => {
      const s = ns();
      for (const table of TABLES) {
        const t = await Table.open(table, { family, netns: s.ns });
        expect(t.exists).toBe(false);
        expect(names(s, family)).not.toContain(table);
        // What it shows is what the kernel makes (the oracle makes it, reading).
        const shown = t.save();
        expect(shown).toBe(s.save(family, table));
        expect(Table.openSync(table, { family, netns: s.ns }).exists).toBe(true);
      }
    });
  }

  it('ifMissing: error throws, create makes it, and a commit from the empty snapshot makes and fills it', () => {
    const s = ns();
    expect(() => Table.openSync('nat', { netns: s.ns, ifMissing: 'error' })).toThrow(expect.objectContaining({ code: 'ERR_IPTC_ABSENT' }));
    expect(() => new CounterReader('nat', { netns: s.ns })).toThrow(expect.objectContaining({ code: 'ERR_IPTC_ABSENT' }));
    expect(names(s, 'ipv4')).not.toContain('nat');
    const t = Table.openSync('nat', { netns: s.ns });
    t.append('POSTROUTING', '-o eth0 -j MASQUERADE').commitSync();
    expect(s.save('ipv4', 'nat')).toContain('-A POSTROUTING -o eth0 -j MASQUERADE');
    expect(Table.openSync('raw', { netns: s.ns, ifMissing: 'create' }).exists).toBe(true);
    expect(names(s, 'ipv4')).toContain('raw');
  });

  it('a snapshot of an absent table does not overwrite a table someone made and filled meanwhile', () => {
    const s = ns();
    const t = Table.openSync('mangle', { netns: s.ns });
    t.append('OUTPUT', '-j MARK --set-mark 1');
    s.ipt('-t mangle -A OUTPUT -j MARK --set-mark 2');
    let e: unknown;
    try {
      t.commitSync();
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(IptcError);
    expect((e as IptcError).code).toBe('ERR_IPTC_CONFLICT');
    expect(s.save('ipv4', 'mangle')).toContain('--set-xmark 0x2/0xffffffff');
    expect(s.save('ipv4', 'mangle')).not.toContain('0x1/0xffffffff');
  });
});
