/**
 * Seeded random iptables command sequences (test/sequence.test.ts against
 * iptables-legacy, test/nft-write.test.ts against iptables-nft): rules,
 * positions, chains, policies, renames, and commands iptables must refuse.
 */
import type { FamilyName } from '../src/index.js';

/** A small seeded generator (mulberry32), so that a failure can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One iptables command on the filter table: rules, positions, chains, policies, some of them ones iptables refuses. */
export function randomCommand(rnd: () => number, family: FamilyName): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const n = () => 1 + Math.floor(rnd() * 4);
  const host = family === 'ipv4' ? `10.0.0.${n()}` : `2001:db8::${n()}`;
  const chains = ['INPUT', 'FORWARD', 'OUTPUT', 'web', 'db'];
  const spec = pick([
    `-s ${host} -j ACCEPT`,
    `-d ${host} -j DROP`,
    `-p tcp --dport ${20 + n()} -j ACCEPT`,
    `-p udp --sport ${1000 + n()}:2000 -j DROP`,
    '-i eth0 -j RETURN',
    '! -o eth+ -j ACCEPT',
    `-m comment --comment "rule ${n()}" -j ACCEPT`,
    '-p tcp -m multiport --dports 80,443 -j ACCEPT',
    '-m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT',
    '-m limit --limit 5/min -j ACCEPT',
    `-m mark --mark 0x${n()}/0xff -j DROP`,
    '-p tcp --tcp-flags SYN,ACK SYN -j DROP',
    '-j web',
    '-g db',
    '-j LOG --log-prefix "x: "',
    '-j REJECT',
  ]);
  const chain = pick(chains);
  switch (pick(['A', 'A', 'A', 'I', 'I', 'R', 'D', 'Dspec', 'F', 'Z', 'N', 'X', 'P', 'E'])) {
    case 'A': return `-A ${chain} ${spec}`;
    case 'I': return rnd() < 0.3 ? `-I ${chain} ${spec}` : `-I ${chain} ${n()} ${spec}`;
    case 'R': return `-R ${chain} ${n()} ${spec}`;
    case 'D': return `-D ${chain} ${n()}`;
    case 'Dspec': return `-D ${chain} ${spec}`;
    case 'F': return rnd() < 0.2 ? '-F' : `-F ${chain}`;
    case 'Z': return rnd() < 0.3 ? '-Z' : `-Z ${chain}`;
    case 'N': return `-N ${pick(['web', 'db'])}`;
    case 'X': return `-X ${pick(['web', 'db'])}`;
    case 'P': return `-P ${pick(['INPUT', 'FORWARD', 'OUTPUT'])} ${pick(['ACCEPT', 'DROP'])}`;
    default: return rnd() < 0.5 ? '-E web db' : '-E db web';
  }
}

