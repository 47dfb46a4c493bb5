/**
 * Every nf_tables table of a namespace. Most current distributions point
 * `iptables` at iptables-nft, which keeps its rules in nf_tables: Table.open
 * reads those with backend 'nft' (see nftables.ts). nftTables() lists what
 * nf_tables holds, iptables-nft's tables and everyone else's (firewalld,
 * libvirt, nft's own: listed, never touched), with a netlink dump; nothing
 * is spawned. nftWarning() says in words that iptables-nft tables are there
 * beside the legacy ones, as iptables-nft itself warns of legacy tables.
 */
import { native, type FamilyName } from './native.js';
import { withNetnsFd, type NetnsOption } from './netns.js';
import { TABLES } from './names.js';

export interface NftTable {
  /** 'ipv4' (nft family ip), 'ipv6' (ip6), 'inet', or the number of another family. */
  family: string;
  name: string;
  chains: number;
  rules: number;
}

/**
 * What nftTables and nftTablesSync take.
 * @example
 * ```ts
 * import { nftTablesSync, type NftTablesOptions } from 'iptc-node';
 * const options: NftTablesOptions = { netns: 'edge' };
 * console.log(nftTablesSync(options).length);
 * ```
 */
export interface NftTablesOptions {
  /** The network namespace: a Netns, an `ip netns` name, or a path. Default: the caller's own. */
  netns?: NetnsOption;
}

/**
 * Every nf_tables table in the namespace ([] when nf_tables is not loaded).
 * @example
 * ```ts
 * import { nftTables } from 'iptc-node';
 * for (const t of await nftTables({ netns: 'edge' })) console.log(t.family, t.name, t.chains, t.rules);
 * ```
 */
export async function nftTables(options: NftTablesOptions = {}): Promise<NftTable[]> {
  return withNetnsFd(options.netns, (fd) => native.nftTables(fd, true));
}

/**
 * nftTables() on the calling thread.
 * @example
 * ```ts
 * import { nftTablesSync } from 'iptc-node';
 * const firewalld = nftTablesSync().some((t) => t.family === 'inet' && t.name === 'firewalld');
 * ```
 */
export function nftTablesSync(options: NftTablesOptions = {}): NftTable[] {
  return withNetnsFd(options.netns, (fd) => native.nftTables(fd, false));
}

/**
 * The nf_tables tables iptables-nft would have made for a family (same names as the legacy ones).
 * @example
 * ```ts
 * import { nftTables, iptablesNftTables } from 'iptc-node';
 * const ours = iptablesNftTables(await nftTables(), 'ipv4'); // ip filter, ip nat, ...
 * ```
 */
export function iptablesNftTables(all: NftTable[], family: FamilyName): NftTable[] {
  return all.filter((t) => t.family === family && (TABLES as readonly string[]).includes(t.name) && (t.rules > 0 || t.chains > 0));
}

/**
 * A warning when iptables-nft rules exist beside the legacy tables iptc-node works on, else null.
 * @example
 * ```ts
 * import { nftTables, nftWarning } from 'iptc-node';
 * const warning = nftWarning(await nftTables(), 'ipv4');
 * if (warning) console.warn(warning);
 * ```
 */
export function nftWarning(all: NftTable[], family: FamilyName): string | null {
  const t = iptablesNftTables(all, family);
  if (t.length === 0) return null;
  const nftFamily = family === 'ipv4' ? 'ip' : 'ip6';
  const list = t.map((x) => `${nftFamily} ${x.name} (${x.rules} rule${x.rules === 1 ? '' : 's'})`).join(', ');
  const tool = family === 'ipv4' ? 'iptables-nft-save' : 'ip6tables-nft-save';
  return `iptables-nft tables present: ${list}. These are the legacy tables; open with backend 'nft' (or use ${tool}) to see those rules`;
}
