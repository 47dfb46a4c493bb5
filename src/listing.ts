/**
 * A table as `iptables -L -n -v --line-numbers` shows it (with `exact`, as
 * `-x` adds), byte for byte, and as `iptables -S` lists it. The columns are
 * laid out here, as iptables' own print_header and print_firewall do; what
 * follows the addresses is each match's and extension target's print(),
 * from the addon.
 */
import { IptcError } from './errors.js';
import { listingOf, sourceOf, specsOf } from './printing.js';
import type { Counters } from './rule.js';
import { snapshotOf } from './table-open.js';
import type { Table } from './table.js';
import { checkOptionsObject } from './words.js';

/**
 * What listSpecs takes (iptables -S's arguments).
 * @example
 * ```ts
 * import { Table, listSpecs, type ListSpecsOptions } from 'iptc-node';
 * const options: ListSpecsOptions = { chain: 'INPUT', counters: true };
 * process.stdout.write(listSpecs(Table.openSync('filter'), options));
 * ```
 */
export interface ListSpecsOptions {
  /** Only this chain (iptables -S CHAIN). */
  chain?: string;
  /** Each rule's counters (iptables -S -v: `-c packets bytes`). */
  counters?: boolean;
}

export interface ListOptions {
  /** Only this chain (iptables -L CHAIN). */
  chain?: string;
  /** Exact counters (iptables -x) instead of K, M, G, T units. */
  exact?: boolean;
  /** Leave out the `num` column (iptables without --line-numbers). */
  lineNumbers?: boolean;
  /** Leave out the counters and interfaces (iptables without -v). */
  verbose?: boolean;
}

/** A counter as iptables -v prints it: `width` wide in a column (0: not padded), in units unless exact. */
function num(n: bigint, exact: boolean, width: number): string {
  const pad = (s: string, w: number) => (width ? s.padStart(w) : s);
  if (exact) return `${pad(String(n), 8)} `;
  if (n <= 99999n) return `${pad(String(n), 5)} `;
  // (iptables rounds in 64 bits: a count near 2^64 wraps, as there.)
  const down = (v: bigint) => BigInt.asUintN(64, v + 500n) / 1000n;
  for (const unit of ['K', 'M', 'G']) {
    n = down(n);
    if (n <= 9999n) return `${pad(String(n), 4)}${unit} `;
  }
  n = down(n);
  return `${pad(String(n), 4)}T `;
}

type Format = Required<Omit<ListOptions, 'chain'>>;

function chainHeader(name: string, policy: string | undefined, counters: Counters | undefined, refs: number, o: Format): string {
  if (policy === undefined) return `Chain ${name} (${refs} references)\n`;
  if (!o.verbose) return `Chain ${name} (policy ${policy})\n`;
  return `Chain ${name} (policy ${policy} ${num(counters!.packets, o.exact, 0)}packets, ${num(counters!.bytes, o.exact, 0)}bytes)\n`;
}

function columnHeader(o: Format): string {
  let s = o.lineNumbers ? 'num  ' : '';
  if (o.verbose) s += o.exact ? `${'pkts'.padStart(8)} ${'bytes'.padStart(10)} ` : ' pkts bytes ';
  s += `${'target'.padEnd(9)}  prot opt`;
  if (o.verbose) s += ` ${'in'.padEnd(6)} ${'out'.padEnd(6)} `;
  return `${s} ${'source'.padEnd(19)}  ${'destination'.padEnd(19)} \n`;
}

/** An address as -L -n shows it: a host without its /32 (/128), nothing given as 0.0.0.0/0 (::/0). */
function address(a: string | undefined, ipv4: boolean): string {
  if (a === undefined) return ipv4 ? '0.0.0.0/0' : '::/0';
  const full = ipv4 ? '/32' : '/128';
  return a.endsWith(full) ? a.slice(0, -full.length) : a;
}

/**
 * The table's chains (or one) as `iptables -L -n -v --line-numbers` prints
 * them (`-x` with `exact`).
 * @example
 * ```ts
 * import { Table, listTable } from 'iptc-node';
 * const t = await Table.open('filter');
 * process.stdout.write(listTable(t, { exact: true }));
 * ```
 */
export function listTable(t: Table, options: ListOptions = {}): string {
  checkOptionsObject(options, 'list options', ['chain', 'exact', 'lineNumbers', 'verbose']);
  const o: Format = { exact: !!options.exact, lineNumbers: options.lineNumbers ?? true, verbose: options.verbose ?? true };
  const chains = options.chain === undefined ? t.chains() : [t.chain(options.chain) ?? noChain(t, options.chain)];
  const ipv4 = t.family === 'ipv4';
  const snap = snapshotOf(t);
  const blocks: string[] = [];
  for (const c of chains) {
    let s = chainHeader(c.name, c.policy, c.counters, c.references, o) + columnHeader(o);
    const rules = t.rules(c.name);
    const { extras, targets, protos } = listingOf(snap, snap.find(c.name)!);
    rules.forEach((r, i) => {
      const inv = r.invert;
      if (o.lineNumbers) s += `${String(i + 1).padEnd(4)} `;
      if (o.verbose) s += num(r.counters.packets, o.exact, 1) + num(r.counters.bytes, o.exact, 1);
      s += `${(targets[i] || r.target?.name || '').padEnd(9)} ${inv.protocol ? '!' : ' '}${String(protos[i]).padEnd(4)} `;
      s += ipv4 ? `${inv.fragment ? '!' : '-'}${r.fragment ? 'f' : '-'} ` : '-- ';
      const iface = (v: string | undefined, neg: boolean | undefined) => `${neg ? '!' : ''}${v ?? '*'}`.padEnd(6);
      if (o.verbose) s += ` ${iface(r.inInterface, inv.inInterface)} ${iface(r.outInterface, inv.outInterface)} `;
      s += `${inv.source ? '!' : ' '}${address(r.source, ipv4).padEnd(19)} ${inv.destination ? '!' : ' '}${address(r.destination, ipv4).padEnd(19)} `;
      if (r.target?.kind === 'goto') s += '[goto] ';
      s += `${extras[i]}\n`;
    });
    blocks.push(s);
  }
  return blocks.join('\n');
}

/**
 * The table's chains (or one) as `iptables -S` lists them: `-P` for each
 * built-in chain, `-N` for each user chain, then the rules as `-A` lines;
 * with `counters`, as `iptables -S -v` (`-c packets bytes`).
 * @example
 * ```ts
 * import { Table, listSpecs } from 'iptc-node';
 * process.stdout.write(listSpecs(await Table.open('filter'), { chain: 'INPUT' })); // -P INPUT ACCEPT, -A INPUT ...
 * ```
 */
export function listSpecs(t: Table, options: ListSpecsOptions = {}): string {
  checkOptionsObject(options, 'list options', ['chain', 'counters']);
  const chains = options.chain === undefined ? t.chains() : [t.chain(options.chain) ?? noChain(t, options.chain)];
  const snap = snapshotOf(t);
  const c = (n: Counters | undefined) => (options.counters && n ? ` -c ${n.packets} ${n.bytes}` : '');
  let s = chains.map((ch) => (ch.builtin ? `-P ${ch.name} ${ch.policy}${c(ch.counters)}\n` : `-N ${ch.name}\n`)).join('');
  for (const ch of chains) {
    const state = snap.find(ch.name)!;
    if (!options.counters) {
      for (const spec of specsOf(snap, state.refs)) s += `-A ${ch.name}${spec}\n`;
      continue;
    }
    // iptables -S -v puts the counters between the matches and the target.
    const src = sourceOf(snap, state);
    for (let i = 0; i < src.count; i++) {
      const spec = src.specs[i]!;
      const target = src.targetText(i);
      s += `-A ${ch.name}${spec.slice(0, spec.length - target.length)} -c ${src.packets(i)} ${src.bytes(i)}${target}\n`;
    }
  }
  return s;
}

function noChain(t: Table, chain: string): never {
  throw new IptcError(`no chain '${chain}' in table ${t.name}`, { code: 'ERR_IPTC_NO_CHAIN', table: t.name, chain });
}
