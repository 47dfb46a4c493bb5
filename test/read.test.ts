import { afterEach, describe, expect, it } from 'vitest';
import { Table, formatRule, saveAll, saveAllSync, listTablesSync } from '../src/index.js';
import { FIXTURES } from './fixtures.js';
import { scratch, stripComments, tool, type Scratch } from './helpers.js';

let s: Scratch | undefined;
afterEach(() => {
  s?.close();
  s = undefined;
});

describe('reading tables matches iptables-legacy-save byte for byte', () => {
  for (const fx of FIXTURES) {
    it(`${fx.family} ${fx.table}`, async () => {
      s = scratch();
      s.restore(fx.text, fx.family);
      const t = await Table.open(fx.table, { family: fx.family, netns: s.ns });
      expect(t.save()).toBe(s.save(fx.family, fx.table));
      expect(t.save({ counters: true })).toBe(s.save(fx.family, fx.table, true));
      // Every rule on its own: formatRule of the decoded object is the oracle's line.
      const oracle = s.save(fx.family, fx.table).split('\n').filter((l) => l.startsWith('-A '));
      const ours = t.chains().flatMap((c) => t.rules(c.name).map((r) => formatRule(r, { chain: c.name })));
      expect(ours).toEqual(oracle);
      expect(ours.length).toBeGreaterThan(0);
    });
  }
});

describe('decoded rule objects', () => {
  it('gives addresses, interfaces, protocol, matches, target and negations', () => {
    s = scratch();
    s.restore(FIXTURES[0]!.text);
    const t = Table.openSync('filter', { netns: s.ns });
    const input = t.rules('INPUT');
    expect(input[0]).toMatchObject({ inInterface: 'lo', target: { name: 'ACCEPT', kind: 'verdict' }, invert: {} });
    expect(input[1]).toMatchObject({
      protocol: 'tcp',
      matches: [{ name: 'tcp', options: [{ name: 'dport', values: ['22'], invert: false }] }],
      target: { name: 'ACCEPT', kind: 'verdict' },
    });
    expect(input[5]).toMatchObject({ source: '10.1.2.3/32', target: { name: 'DROP' } });
    expect(input[6]).toMatchObject({ source: '10.0.0.0/255.0.255.0', invert: { source: true } });
    expect(input[7]).toMatchObject({ destination: '172.16.0.0/12', inInterface: 'eth+', invert: { inInterface: true }, target: { name: 'RETURN' } });
    const flags = input.find((r) => r.matches[0]?.options.some((o) => o.name === 'tcp-flags'))!;
    expect(flags.matches[0]!.options.find((o) => o.name === 'tcp-flags')).toEqual({ name: 'tcp-flags', values: ['SYN,RST,ACK', 'SYN'], invert: false });
    const comment = input.find((r) => r.matches[0]?.name === 'comment')!;
    expect(comment.matches[0]!.options[0]!.values[0]).toBe('a comment with spaces and "quotes"');
    const jump = input.find((r) => r.target?.name === 'services')!;
    expect(jump.target!.kind).toBe('jump');
    const gotoRule = input.find((r) => r.target?.name === 'LOGDROP' && r.matches.length === 0)!;
    expect(gotoRule.target!.kind).toBe('goto');
    const log = t.rules('LOGDROP')[0]!;
    expect(log.target).toMatchObject({ name: 'LOG', kind: 'extension' });
    // The options are what iptables-save prints for the rule, in its order.
    const logLine = s.save().split('\n').find((l) => l.startsWith('-A LOGDROP -j LOG'))!;
    expect(log.target!.options.map((o) => `--${o.name}`)).toEqual(logLine.split(' ').filter((w) => w.startsWith('--')));
    expect(log.target!.options[0]).toEqual({ name: 'log-prefix', values: ['DROP: '], invert: false });
    const counting = input.filter((r) => r.target === null);
    expect(counting.map((r) => r.matches[0]!.name)).toEqual(['recent', 'tcp']);
    expect(t.rules('INPUT').find((r) => r.fragment && !r.invert.fragment)).toBeDefined();
  });

  it('reports chains with policies, counters and reference counts as libiptc does', () => {
    s = scratch();
    s.restore(FIXTURES[0]!.text);
    const t = Table.openSync('filter', { netns: s.ns });
    const chains = t.chains();
    expect(chains.map((c) => c.name)).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'LOGDROP', 'empty', 'services']);
    expect(chains[0]).toMatchObject({ builtin: true, policy: 'DROP', counters: { packets: 0n, bytes: 0n } });
    // iptables -L prints "(N references)" for user chains: compare with it.
    for (const c of chains.filter((x) => !x.builtin)) {
      const head = s.ipt(`-n -L ${c.name}`).split('\n')[0]!;
      expect(head).toBe(`Chain ${c.name} (${c.references} references)`);
      expect(t.rules(c.name).length).toBe(c.length);
    }
    expect(t.chain('nope')).toBeUndefined();
  });
});

describe('counters', () => {
  it('count real packets, rules and policies alike, IPv4 and IPv6', () => {
    s = scratch();
    s.sh('ip link set lo up');
    s.ipt('-A OUTPUT -o lo -p icmp -j ACCEPT');
    s.ipt('-A INPUT -i lo -p icmp --icmp-type echo-request');
    s.ipt('-A OUTPUT -o lo -p ipv6-icmp -j ACCEPT', 'ipv6');
    s.sh('ping -c 3 -i 0.01 -W 1 127.0.0.1 && ping -6 -c 2 -i 0.01 -W 1 ::1');
    const t4 = Table.openSync('filter', { netns: s.ns });
    const t6 = Table.openSync('filter', { family: 'ipv6', netns: s.ns });
    expect(t4.save({ counters: true })).toBe(s.save('ipv4', 'filter', true));
    expect(t6.save({ counters: true })).toBe(s.save('ipv6', 'filter', true));
    expect(t4.rules('INPUT')[0]!.counters.packets).toBe(3n);
    expect(t4.rules('OUTPUT')[0]!.counters.packets).toBe(6n);
    expect(t4.rules('OUTPUT')[0]!.counters.bytes).toBe(6n * 84n);
    expect(t6.rules('OUTPUT')[0]!.counters.packets).toBeGreaterThanOrEqual(4n);
    expect(t4.chain('INPUT')!.counters!.packets).toBe(6n); // both echo and reply fall to the policy
  });
});

describe('families and namespaces', () => {
  it('reads IPv4 and IPv6 in one process, in any order, many times', async () => {
    s = scratch();
    for (const fx of FIXTURES) s.restore(fx.text, fx.family);
    const order = [...FIXTURES, ...[...FIXTURES].reverse(), ...FIXTURES.filter((_, i) => i % 2)];
    for (const fx of order) {
      const t = await Table.open(fx.table, { family: fx.family, netns: s.ns });
      expect(t.save()).toBe(s.save(fx.family, fx.table));
    }
  });

  it('saveAll prints every table in the order iptables-save uses', async () => {
    s = scratch();
    for (const fx of FIXTURES) s.restore(fx.text, fx.family);
    for (const family of ['ipv4', 'ipv6'] as const) {
      const oracle = stripComments(s.sh(tool(family, '-save')));
      expect(await saveAll({ family, netns: s.ns })).toBe(oracle);
      expect(saveAllSync({ family, netns: s.ns, counters: true })).toBe(stripComments(s.sh(`${tool(family, '-save')} -c`)));
    }
    expect(listTablesSync({ netns: s.ns }).sort()).toEqual(['filter', 'mangle', 'nat', 'raw', 'security']);
  });

  it('reads a namespace given by ip-netns name and by path', () => {
    const name = `iptc-test-${process.pid}`;
    s = scratch();
    s.sh(`ip netns add ${name}`);
    try {
      s.sh(`ip netns exec ${name} ${tool('ipv4', '')} -w -A INPUT -s 10.9.9.9 -j DROP`);
      for (const netns of [name, `/run/netns/${name}`]) {
        const t = Table.openSync('filter', { netns });
        expect(t.rules('INPUT')[0]!.source).toBe('10.9.9.9/32');
      }
      const t = Table.openSync('filter', { netns: s.ns.path });
      expect(t.rules('INPUT')).toEqual([]);
    } finally {
      s.sh(`ip netns del ${name}`);
    }
  });
});
