/**
 * Seeded random iptables command sequences (test/sequence.test.ts against
 * iptables-legacy, test/nft-write.test.ts against iptables-nft): rules,
 * positions, chains, policies, renames, checks, counters, and commands
 * iptables must refuse, for any table.
 *
 * The rules come from three places: a fixed list of common ones; the rules
 * of the fidelity fixtures (test/fixtures.ts) for the same family and table,
 * kept only where every extension they name is installed on this machine;
 * and every other extension installed for the family, named bare
 * (`-m NAME` / `-j NAME`), which iptables takes or refuses by itself.
 */
import { readdirSync } from 'node:fs';
import type { FamilyName } from '../src/index.js';
import { BUILTINS } from '../src/snapshot.js';
import { FIXTURES } from './fixtures.js';

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

/** The built-in chains of each table, as the kernel has them (the library's own list). */
export { BUILTINS };

/** A rule and, for a fixture's rule, the chain it was written for. */
interface Spec {
  spec: string;
  chain?: string;
}

/** What a sequence draws from for one family and table. */
export interface Pool {
  family: FamilyName;
  table: string;
  /** Rules from the fixed list (a function: some pick numbers as they go). */
  common: (rnd: () => number) => string;
  /** The fixtures' rules for this family and table whose extensions are installed. */
  fixtures: Spec[];
  /** Installed extensions of the family that no fixture uses, named bare. */
  bare: string[];
}

const XTABLES_DIR = process.env.XTABLES_LIBDIR ?? '/usr/lib/x86_64-linux-gnu/xtables';

/**
 * Left out of the bare names: they make objects outside the namespace when
 * taken (LED: a LED trigger; IDLETIMER: a sysfs timer), or are not matches or
 * targets of an xtables rule.
 */
const NOT_BARE = new Set(['LED', 'IDLETIMER', 'standard']);

/** The extensions installed for a family (libxt_* and libipt_* or libip6t_*), by the name a rule uses. */
export function installedExtensions(family: FamilyName): Set<string> {
  const own = family === 'ipv4' ? 'libipt_' : 'libip6t_';
  const names = new Set<string>();
  for (const f of readdirSync(XTABLES_DIR)) {
    const m = /^(libxt_|libipt_|libip6t_)(.+)\.so$/.exec(f);
    if (m && (m[1] === 'libxt_' || m[1] === own)) names.add(m[2]!);
  }
  return names;
}

/** The extensions a rule names: its -m matches, its -p protocol's match, its -j/-g target when that is an extension. */
function extensionsOf(spec: string): string[] {
  const out: string[] = [];
  for (const m of spec.matchAll(/(?:^|\s)(-m|--match|-p|--protocol|-j|--jump)\s+(\S+)/g)) {
    const name = m[2]!;
    if (m[1] === '-p' || m[1] === '--protocol') {
      if (/^[a-z]/.test(name) && name !== 'all') out.push(name === 'ipv6-icmp' ? 'icmp6' : name);
    } else if (m[1].startsWith('-m') || m[1] === '--match' || /^[A-Z]/.test(name)) out.push(name);
  }
  return out.filter((n) => !['ACCEPT', 'DROP', 'RETURN', 'QUEUE'].includes(n));
}

/** The pool for one family and table, from what is installed here. */
export function poolFor(family: FamilyName, table: string, installed = installedExtensions(family)): Pool {
  const used = new Set<string>();
  const fixtures: Spec[] = [];
  for (const fx of FIXTURES.filter((f) => f.family === family)) {
    for (const m of fx.text.matchAll(/^-A (\S+) (.*)$/gm)) {
      const exts = extensionsOf(m[2]!);
      exts.forEach((e) => used.add(e));
      // Jumps to the fixture's own chains are left to the common rules (-j web, -g db).
      const jumpsToOwnChain = /(?:^|\s)-[jg] [a-z]/.test(m[2]!);
      if (fx.table === table && !jumpsToOwnChain && exts.every((e) => installed.has(e))) fixtures.push({ chain: m[1]!, spec: m[2]! });
    }
  }
  const bare = [...installed].filter((n) => !used.has(n) && !NOT_BARE.has(n)).sort();
  return { family, table, common: (rnd) => commonRule(rnd, family), fixtures, bare };
}

/** One of a fixed list of common rules. */
function commonRule(rnd: () => number, family: FamilyName): string {
  const n = () => 1 + Math.floor(rnd() * 4);
  const host = family === 'ipv4' ? `10.0.0.${n()}` : `2001:db8::${n()}`;
  const rules = [
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
  ];
  return rules[Math.floor(rnd() * rules.length)]!;
}

/**
 * One iptables command for the pool's table: a rule appended, inserted,
 * replaced, deleted or checked, a chain flushed, zeroed, made, removed or
 * renamed, a policy set; some with counters (-c), some of them ones iptables
 * refuses. Without a pool: the common rules on the filter table, and neither
 * checks (-C) nor counters.
 */
export function randomCommand(rnd: () => number, family: FamilyName, pool?: Pool): string {
  const p = pool ?? { family, table: 'filter', common: (r: () => number) => commonRule(r, family), fixtures: [], bare: [] };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const n = () => 1 + Math.floor(rnd() * 4);
  const builtins = BUILTINS[p.table] ?? BUILTINS.filter!;
  let chain = pick([...builtins, 'web', 'db']);
  // A rule: mostly a common one, then the fixtures', then a bare extension.
  const r = rnd();
  let spec: string;
  if (r < 0.25 && p.fixtures.length) {
    const f = pick(p.fixtures);
    spec = f.spec;
    if (f.chain && rnd() < 0.7) chain = f.chain;
  } else if (r < 0.35 && p.bare.length) {
    const name = pick(p.bare);
    spec = /^[A-Z]/.test(name) ? `-j ${name}` : `-m ${name} -j ACCEPT`;
  } else spec = p.common(rnd);
  const counters = () => (pool && rnd() < 0.1 ? ` -c ${n()} ${100 * n()}` : '');
  const ops = ['A', 'A', 'A', 'I', 'I', 'R', 'D', 'Dspec', 'F', 'Z', 'N', 'X', 'P', 'E'];
  switch (pick(pool ? [...ops, 'C'] : ops)) {
    case 'A': return `-A ${chain} ${spec}${counters()}`;
    case 'I': return rnd() < 0.3 ? `-I ${chain} ${spec}` : `-I ${chain} ${n()} ${spec}${counters()}`;
    case 'R': return `-R ${chain} ${n()} ${spec}${counters()}`;
    case 'D': return `-D ${chain} ${n()}`;
    case 'Dspec': return `-D ${chain} ${spec}`;
    case 'C': return `-C ${chain} ${spec}`;
    case 'F': return rnd() < 0.2 ? '-F' : `-F ${chain}`;
    case 'Z': return rnd() < 0.3 ? '-Z' : `-Z ${chain}`;
    case 'N': return `-N ${pick(['web', 'db'])}`;
    case 'X': return `-X ${pick(['web', 'db'])}`;
    case 'P': return `-P ${pick(builtins)} ${pick(['ACCEPT', 'DROP'])}${counters()}`;
    default: return rnd() < 0.5 ? '-E web db' : '-E db web';
  }
}
