import { describe, expect, it } from 'vitest';
import { IptcError, restore, restoreSync, saveAll, Table } from '../src/index.js';
import { FIXTURES } from './fixtures.js';
import { scratchPerTest, tool } from './helpers.js';

const ns = scratchPerTest();

describe('restore gives what iptables-legacy-restore gives', () => {
  for (const fx of FIXTURES) {
    it(`${fx.family} ${fx.table}`, async () => {
      const ref = ns();
      const ours = ns();
      ref.restore(fx.text, fx.family);
      await restore(fx.text, { family: fx.family, netns: ours.ns });
      expect(ours.save(fx.family, fx.table, true)).toBe(ref.save(fx.family, fx.table, true));
    });
  }

  it('odd quoting as iptables-restore reads it', () => {
    const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "a \\"b\\" c" -j ACCEPT\n-A INPUT -m comment --comment "unterminated -j DROP\nCOMMIT\n';
    const ref = ns();
    const ours = ns();
    ref.restore(text);
    restoreSync(text, { netns: ours.ns });
    expect(ours.save()).toBe(ref.save());
  });

  it('with counters (-c), noflush (-n), and one table only (-T)', () => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const fx = FIXTURES.find((f) => f.family === family && f.table === 'filter')!;
      const withCounters = fx.text
        .replace(':INPUT DROP [0:0]', ':INPUT DROP [11:2200]')
        .replace(/^-A INPUT -i lo -j ACCEPT$/m, '[5:500] -A INPUT -i lo -j ACCEPT');
      const extra = `*filter\n:extra - [0:0]\n[3:4] -A INPUT -p udp -j extra\nCOMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j MARK --set-mark 9\nCOMMIT\n`;
      for (const [flags, opts] of [
        ['-c', { counters: true }],
        ['', {}],
      ] as const) {
        const ref = ns();
        const ours = ns();
        ref.restore(withCounters, family, flags);
        restoreSync(withCounters, { family, netns: ours.ns, ...opts });
        expect(ours.save(family, 'filter', true)).toBe(ref.save(family, 'filter', true));
        ref.restore(extra, family, `${flags} -n -T filter`);
        restoreSync(extra, { family, netns: ours.ns, ...opts, noflush: true, table: 'filter' });
        // A built-in chain the text does not list keeps its policy counters, as
        // with iptables 1.8.10; the oracle here, iptables-legacy 1.8.9, restarts
        // them at every commit (libiptc's "since the read").
        const kept = flags === '-c' ? ':INPUT DROP [11:2200]' : ':INPUT DROP [0:0]';
        expect(ours.save(family, 'filter', true)).toBe(ref.save(family, 'filter', true).replace(':INPUT DROP [0:0]', kept));
        expect(ours.save(family, 'mangle', true)).toBe(ref.save(family, 'mangle', true));
      }
    }
  });

  it('what save() prints restores to the same tables', async () => {
    const a = ns();
    const b = ns();
    for (const fx of FIXTURES) a.restore(fx.text, fx.family);
    for (const family of ['ipv4', 'ipv6'] as const) {
      await restore(await saveAll({ family, netns: a.ns, counters: true }), { family, netns: b.ns, counters: true });
      // Table by table: the kernel lists tables newest first, and b made them in another order.
      for (const fx of FIXTURES.filter((f) => f.family === family)) {
        expect(b.save(family, fx.table, true)).toBe(a.save(family, fx.table, true));
      }
    }
  });
});

describe('restore errors', () => {
  const good = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';
  const cases: [string, number][] = [
    ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n', 4],
    ['*filter\n-A INPUT -m nosuchmatch -j ACCEPT\nCOMMIT\n', 2],
    ['*filter\n-A NOCHAIN -j ACCEPT\nCOMMIT\n', 2],
    ['*filter\n:INPUT BOGUS [0:0]\nCOMMIT\n', 2],
    ['*filter\n-A INPUT -j ACCEPT\n', 3],
    ['-A INPUT -j ACCEPT\n', 1],
    ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 300.1.1.1 -j DROP\nCOMMIT\n', 3],
    ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j LOG --log-level nope\nCOMMIT\n', 3],
    ['*nosuchtable\nCOMMIT\n', 1],
    ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment ""x -j ACCEPT\nCOMMIT\n', 3],
    ['*filter\n:a-very-long-chain-name-that-is-over-28 - [0:0]\nCOMMIT\n', 2],
  ];
  for (const [text, line] of cases) {
    it(`names line ${line} and commits nothing of that table: ${JSON.stringify(text.split('\n')[line - 1])}`, async () => {
      const s = ns();
      s.restore(good);
      const before = s.save('ipv4', 'filter', true);
      // iptables-legacy-restore refuses it too
      expect(s.try(`${tool('ipv4', '-restore')} -w`, text).status).not.toBe(0);
      let e: unknown;
      try {
        await restore(text, { netns: s.ns });
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(IptcError);
      expect((e as IptcError).line).toBe(line);
      expect((e as IptcError).message).toMatch(new RegExp(`^line ${line}`));
      expect(s.save('ipv4', 'filter', true)).toBe(before);
    });
  }

  it('commits the blocks before a bad one, as iptables-restore does', () => {
    const s = ns();
    expect(() => restoreSync('*mangle\n-A OUTPUT -j MARK --set-mark 1\nCOMMIT\n*filter\n-A INPUT -j nosuch\nCOMMIT\n', { netns: s.ns })).toThrow(IptcError);
    expect(Table.openSync('mangle', { netns: s.ns }).rules('OUTPUT').length).toBe(1);
    expect(Table.openSync('filter', { netns: s.ns }).rules('INPUT').length).toBe(0);
  });
});

describe('restore input at the edges of the format, as iptables-legacy-restore takes it', () => {
  const cases: [string, string, boolean][] = [
    ['CR line ends', '*filter\r\n:INPUT ACCEPT [0:0]\r\n-A INPUT -j ACCEPT\r\nCOMMIT\r\n', false],
    ['a user chain declared without counters', '*filter\n:foo -\n-A foo -j ACCEPT\nCOMMIT\n', false],
    ['a built-in chain declared without counters', '*filter\n:INPUT DROP\nCOMMIT\n', false],
    ['counters written with blanks, restored with -c', '*filter\n[ 1: 2] -A INPUT -j ACCEPT\n:FORWARD ACCEPT [ 3: 4]\nCOMMIT\n', true],
  ];
  for (const [what, text, counters] of cases) {
    it(`${what}: taken or refused as iptables-legacy-restore does, with the same table`, () => {
      const ref = ns();
      const ours = ns();
      const theirs = ref.try(`iptables-legacy-restore${counters ? ' -c' : ''}`, text).status;
      let refused = false;
      try {
        restoreSync(text, { netns: ours.ns, counters, backend: 'legacy' });
      } catch (e) {
        expect(e).toBeInstanceOf(IptcError);
        refused = true;
      }
      expect(refused, what).toBe(theirs !== 0);
      expect(ours.save('ipv4', 'filter', true)).toBe(ref.save('ipv4', 'filter', true));
    });
  }
});
