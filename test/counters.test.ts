import { describe, expect, it } from 'vitest';
import { CounterReader, rates, slotOf, Table, type CounterSnapshot } from '../src/index.js';
import { FIXTURES } from './fixtures.js';
import { scratchPerTest, type Scratch } from './helpers.js';

const ns = scratchPerTest();

/** The counters iptables-legacy-save -c prints, as chain → [policy?, rule counters...]. */
function oracleCounters(s: Scratch, family: 'ipv4' | 'ipv6', table: string): Map<string, { policy?: string; rules: string[] }> {
  const out = new Map<string, { policy?: string; rules: string[] }>();
  for (const line of s.save(family, table, true).split('\n')) {
    let m = /^:(\S+) (\S+) \[(\d+):(\d+)\]$/.exec(line);
    if (m) out.set(m[1]!, { policy: m[2] === '-' ? undefined : `${m[3]}:${m[4]}`, rules: [] });
    m = /^\[(\d+):(\d+)\] -A (\S+) /.exec(line);
    if (m) out.get(m[3]!)!.rules.push(`${m[1]}:${m[2]}`);
  }
  return out;
}

function ours(snap: CounterSnapshot): Map<string, { policy?: string; rules: string[] }> {
  const c = snap.counters;
  const at = (slot: number) => `${c[2 * slot]}:${c[2 * slot + 1]}`;
  return new Map(
    snap.layout.chains.map((ch) => [
      ch.name,
      { policy: ch.builtin ? at(ch.policy) : undefined, rules: Array.from({ length: ch.count }, (_, i) => at(ch.first + i)) },
    ]),
  );
}

describe('CounterReader', () => {
  for (const fx of FIXTURES) {
    it(`reads every rule's and policy's counters, ${fx.family} ${fx.table}`, async () => {
      const s = ns();
      s.restore(fx.text, fx.family);
      s.sh('ip link set lo up');
      s.sh(fx.family === 'ipv4' ? 'ping -c 3 -i 0.01 -W 1 127.0.0.1 || true' : 'ping -6 -c 3 -i 0.01 -W 1 ::1 || true');
      const r = new CounterReader(fx.table, { family: fx.family, netns: s.ns });
      const snap = await r.read();
      expect(ours(snap)).toEqual(oracleCounters(s, fx.family, fx.table));
      // Same chains and rule counts as the full read.
      const t = Table.openSync(fx.table, { family: fx.family, netns: s.ns });
      expect(snap.layout.chains.map((c) => [c.name, c.count])).toEqual(t.chains().map((c) => [c.name, c.length]));
      r.close();
    });
  }

  it('keeps its layout while only counters change, rebuilds it when rules change, and follows rules by key', () => {
    const s = ns();
    s.sh('ip link set lo up');
    s.ipt('-A OUTPUT -o lo -p icmp -j ACCEPT');
    s.ipt('-A OUTPUT -o lo -p udp -j ACCEPT');
    const r = new CounterReader('filter', { netns: s.ns });
    const a = r.readSync();
    s.sh('ping -c 5 -i 0.01 -W 1 127.0.0.1');
    const b = r.readSync();
    expect(b.layout).toBe(a.layout);
    const icmp = slotOf(b.layout, 'OUTPUT', 1);
    expect(b.counters[2 * icmp]).toBe(10n);
    s.ipt('-I OUTPUT 1 -p tcp -j ACCEPT');
    const c = r.readSync();
    expect(c.layout.version).toBe(a.layout.version + 1);
    const moved = slotOf(c.layout, 'OUTPUT', 2);
    expect(c.layout.keys[moved]).toBe(b.layout.keys[icmp]);
    expect(c.counters[2 * moved]).toBe(10n);
    const rate = rates(b, c);
    expect(rate.packetsPerSecond[moved]).toBe(0); // no new packets on that rule
    expect(rate.packetsPerSecond[slotOf(c.layout, 'OUTPUT', 1)]).toBe(0);
    r.close();
    expect(() => r.readSync()).toThrow(expect.objectContaining({ code: 'ERR_IPTC_CLOSED' }));
  });

  it('turns two reads into rates, across counter resets', async () => {
    const s = ns();
    s.sh('ip link set lo up');
    s.ipt('-A OUTPUT -o lo -p icmp -j ACCEPT');
    const r = new CounterReader('filter', { netns: s.ns });
    const a = await r.read();
    s.sh('ping -c 10 -i 0.01 -W 1 127.0.0.1');
    const b = await r.read();
    const slot = slotOf(b.layout, 'OUTPUT', 1);
    const rate = rates(a, b);
    expect(rate.packetsPerSecond[slot]).toBeCloseTo(20 / rate.seconds, 6);
    expect(rate.bytesPerSecond[slot]).toBeCloseTo((20 * 84) / rate.seconds, 6);
    s.ipt('-Z OUTPUT');
    s.sh('ping -c 2 -i 0.01 -W 1 127.0.0.1');
    const c = await r.read();
    const after = rates(b, c);
    expect(after.packetsPerSecond[slot]).toBeCloseTo(4 / after.seconds, 6); // counted from zero, never negative
    r.close();
  });

  it('serves many concurrent async reads, on one reader and on many', async () => {
    const s = ns();
    s.restore(FIXTURES[0]!.text);
    const readers = Array.from({ length: 8 }, () => new CounterReader('filter', { netns: s.ns }));
    const all = await Promise.all(readers.flatMap((r) => Array.from({ length: 25 }, () => r.read())));
    expect(new Set(all.map((x) => x.counters.length)).size).toBe(1);
    for (const r of readers) r.close();
  });

  it('reports a missing table or namespace clearly', () => {
    const s = ns();
    // @ts-expect-error a name outside TableName, as a JavaScript caller may give it
    expect(() => new CounterReader('nosuch', { netns: s.ns })).toThrow(expect.objectContaining({ code: 'ERR_IPTC_ABSENT' }));
    expect(() => new CounterReader('filter', { netns: 'no-such-ns-anywhere' })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
