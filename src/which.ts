/**
 * Which kernel firewall a table is read from. 'legacy' (xtables, what
 * iptables-legacy writes) and 'nft' (the nf_tables tables iptables-nft
 * writes) are what they say; 'auto', the default, decides per namespace and
 * family as a careful operator would:
 *  - the backend that holds rules there (legacy: a table with more than its
 *    built-in chains; nft: a table of iptables' name exists);
 *  - if both do, the one the host's `iptables` command is (the alternatives
 *    link, read, never run), with a warning, as iptables-nft warns of legacy
 *    tables;
 *  - if neither does, legacy: what iptc-node has always written there, so
 *    that a program that fills an empty namespace keeps writing where it
 *    wrote before; pass backend 'nft' to fill nf_tables instead.
 */
import { checkOptionsObject } from './words.js';
import { readlinkSync, realpathSync } from 'node:fs';
import type { Backend, BackendName } from './backend.js';
import { argumentError, show } from './errors.js';
import { legacy } from './legacy.js';
import { native, type FamilyName, type NativeBackendFacts } from './native.js';
import { TABLES, type TableName } from './names.js';
import { withNetnsFd, type NetnsOption } from './netns.js';
import { nft } from './nftables.js';

export type BackendChoice = BackendName | 'auto';

/** @internal */
export function checkBackend(b: unknown): BackendChoice {
  if (b === undefined) return 'auto';
  if (b !== 'legacy' && b !== 'nft' && b !== 'auto') throw argumentError(`backend must be 'legacy', 'nft' or 'auto', got ${show(b)}`);
  return b;
}

/** The backend named, or what 'auto' decides from the facts. @internal */
export function decide(choice: BackendChoice, family: FamilyName, facts: () => NativeBackendFacts): Backend {
  if (choice === 'legacy') return legacy;
  if (choice === 'nft') return nft;
  const f = facts();
  const inLegacy = f.legacyWithRules.length > 0;
  const inNft = f.nftTables.some((t) => (TABLES as readonly string[]).includes(t));
  if (inLegacy && inNft) {
    const host = hostIptables(family) ?? 'legacy';
    process.emitWarning(
      `both iptables-legacy tables (${f.legacyWithRules.join(', ')}) and iptables-nft tables (${f.nftTables.join(', ')}) hold ${family} rules here; reading ${host}, which the host's ${family === 'ipv4' ? 'iptables' : 'ip6tables'} command uses (pass backend to choose)`,
      { code: 'IPTC_BOTH_BACKENDS' },
    );
    return host === 'nft' ? nft : legacy;
  }
  return inNft ? nft : legacy;
}

/** @internal */
export async function resolveBackend(choice: BackendChoice, family: FamilyName, fd: number): Promise<Backend> {
  if (choice !== 'auto') return decide(choice, family, () => never());
  const facts = await native.backendFacts(family, fd, true);
  return decide(choice, family, () => facts);
}

/** @internal */
export function resolveBackendSync(choice: BackendChoice, family: FamilyName, fd: number): Backend {
  return decide(choice, family, () => native.backendFacts(family, fd, false));
}

function never(): never {
  throw new Error('unreachable');
}

/**
 * What the host's `iptables` (or `ip6tables`) is: 'nft', 'legacy', or
 * undefined when it cannot be told (not installed, an unknown layout).
 * Follows the alternatives link as update-alternatives makes it.
 * @example
 * ```ts
 * import { Table, hostIptables } from 'iptc-node';
 * const t = await Table.open('filter', { backend: hostIptables('ipv4') ?? 'auto' }); // what `iptables` on this host works on
 * ```
 */
export function hostIptables(family: FamilyName): BackendName | undefined {
  const tool = family === 'ipv4' ? 'iptables' : 'ip6tables';
  for (const path of [`/etc/alternatives/${tool}`, `/usr/sbin/${tool}`, `/sbin/${tool}`]) {
    let target: string;
    try {
      target = path.startsWith('/etc/') ? readlinkSync(path) : realpathSync(path);
    } catch {
      continue;
    }
    if (/nft/.test(target)) return 'nft';
    if (/legacy/.test(target)) return 'legacy';
  }
  return undefined;
}

/** The order iptables-nft-save prints tables in. */
const NFT_ORDER: readonly TableName[] = ['mangle', 'security', 'raw', 'filter', 'nat'];

/** The tables a backend has for the family, in the order its save tool prints them. @internal */
export function tablesOf(b: Backend, family: FamilyName, fd: number, async: true): Promise<TableName[]>;
/** @internal */
export function tablesOf(b: Backend, family: FamilyName, fd: number, async: false): TableName[];
export function tablesOf(b: Backend, family: FamilyName, fd: number, async: boolean): TableName[] | Promise<TableName[]> {
  const order = (f: NativeBackendFacts) => NFT_ORDER.filter((t) => f.nftTables.includes(t));
  if (b.name === 'nft') return async ? native.backendFacts(family, fd, true).then(order) : order(native.backendFacts(family, fd, false));
  // (The kernel's list of xtables tables: the five TableNames are all Linux has.)
  return (async ? native.listTables(family, fd, true) : native.listTables(family, fd, false)) as TableName[] | Promise<TableName[]>;
}

export interface WhichOptions {
  family?: FamilyName;
  netns?: NetnsOption;
  backend?: BackendChoice;
}

/**
 * Which backend a read with these options uses: what 'auto' decides, or the one named.
 * @example
 * ```ts
 * import { whichBackend } from 'iptc-node';
 * console.log(await whichBackend({ family: 'ipv6', netns: 'edge' })); // 'legacy' or 'nft'
 * ```
 */
export async function whichBackend(options: WhichOptions = {}): Promise<BackendName> {
  checkOptionsObject(options, 'options', ['family', 'netns', 'backend']);
  const family = options.family ?? 'ipv4';
  const choice = checkBackend(options.backend);
  return withNetnsFd(options.netns, async (fd) => (await resolveBackend(choice, family, fd)).name);
}

/**
 * whichBackend() on the calling thread.
 * @example
 * ```ts
 * import { whichBackendSync } from 'iptc-node';
 * if (whichBackendSync() === 'nft') console.log('this namespace uses iptables-nft');
 * ```
 */
export function whichBackendSync(options: WhichOptions = {}): BackendName {
  checkOptionsObject(options, 'options', ['family', 'netns', 'backend']);
  const family = options.family ?? 'ipv4';
  const choice = checkBackend(options.backend);
  return withNetnsFd(options.netns, (fd) => resolveBackendSync(choice, family, fd).name);
}

/**
 * What iptables-nft warns of, and what it would warn of here: the tables of
 * the backend not read that hold rules. null when there are none.
 * @internal
 */
export function otherBackendWarning(read: BackendName, options: { family?: FamilyName; netns?: NetnsOption } = {}): string | null {
  const family = options.family ?? 'ipv4';
  const f = withNetnsFd(options.netns, (fd) => native.backendFacts(family, fd, false));
  if (read === 'nft') {
    if (!f.legacyWithRules.length) return null;
    return `iptables-legacy tables present, use ${family === 'ipv4' ? 'iptables' : 'ip6tables'}-legacy-save to see them (or --backend legacy)`;
  }
  const nftTables = f.nftTables.filter((t) => (TABLES as readonly string[]).includes(t));
  if (!nftTables.length) return null;
  return `iptables-nft tables present (${nftTables.join(', ')}), use ${family === 'ipv4' ? 'iptables' : 'ip6tables'}-nft-save to see them (or --backend nft)`;
}
