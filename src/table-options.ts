/**
 * What Table.open and its twins take and give besides the snapshot: the
 * options (checked), the snapshot of a table the kernel does not have yet,
 * and a chain as chains() describes it.
 */
import { withToJSON } from './json.js';
import type { Base } from './backend.js';
import { IptcError, argumentError, show } from './errors.js';
import type { FamilyName } from './native.js';
import { checkTableName } from './names.js';
import type { NetnsOption } from './netns.js';
import type { Counters } from './rule.js';
import { BUILTINS, Snapshot, type ChainState, type Policy } from './snapshot.js';
import { checkBackend, type BackendChoice } from './which.js';
import { checkOptionsObject } from './words.js';

export interface TableOptions {
  /** 'ipv4' (iptables, the default) or 'ipv6' (ip6tables). */
  family?: FamilyName;
  /** The network namespace: a Netns, an `ip netns` name, or a path. Default: the caller's own. */
  netns?: NetnsOption;
  /**
   * A table that does not exist in the kernel yet (tables appear on first
   * use): 'empty' (default) gives the snapshot the kernel would make, with
   * `exists` false, and creates nothing until a commit; 'error' throws
   * ERR_IPTC_ABSENT; 'create' makes the table now, as iptables-save does.
   */
  ifMissing?: 'empty' | 'error' | 'create';
  /**
   * The kernel firewall to read and write: 'legacy' (xtables,
   * iptables-legacy's), 'nft' (the nf_tables tables of iptables-nft), or
   * 'auto' (the default): the one that holds rules in the namespace, see
   * which.ts for the whole rule. `table.backend` tells which was read.
   */
  backend?: BackendChoice;
}

/**
 * What iptc-node reads of an AbortSignal (the global one, Node's or the
 * DOM's, fits): declared here so that the declarations need no @types/node.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface CommitOptions {
  /** How long to wait for the xtables lock, in ms (default 10000; 0: do not wait; -1: forever). */
  lockTimeout?: number;
  /**
   * Gives up (rejecting with code ABORT_ERR) when it fires before the kernel
   * commit begins: while waiting for the lock, or before a restore's next
   * table. A kernel commit that has begun completes: it is atomic either way.
   */
  signal?: AbortSignalLike;
}

/**
 * What Table#save takes.
 * @example
 * ```ts
 * import { Table, type SaveOptions } from 'iptc-node';
 * const options: SaveOptions = { counters: true };
 * process.stdout.write(Table.openSync('filter').save(options));
 * ```
 */
export interface SaveOptions {
  /** Rule and policy counters, as iptables-save -c prints them. */
  counters?: boolean;
}

/**
 * What Table#validate takes.
 * @example
 * ```ts
 * import { Table, type ValidateOptions } from 'iptc-node';
 * const options: ValidateOptions = { signal: AbortSignal.timeout(10_000) };
 * console.log((await Table.openSync('filter').validate(options)).ok);
 * ```
 */
export interface ValidateOptions {
  /** Gives up (ABORT_ERR) when it fires. */
  signal?: AbortSignalLike;
}

export interface Chain {
  name: string;
  builtin: boolean;
  /** Built-in chains only. */
  policy?: Policy;
  /** The policy's counters (built-in chains only). */
  counters?: Counters;
  /** How many rules jump or go to this chain. */
  references: number;
  /** Number of rules. */
  length: number;
}


/** @internal */
export function chainInfo(c: ChainState, refs: Map<number, number>): Chain {
  const info: Chain = { name: c.name, builtin: c.builtin, references: refs.get(c.id) ?? 0, length: c.length };
  if (c.builtin) {
    info.policy = c.policy!;
    info.counters = { ...c.shownCounters! };
  }
  return withToJSON(info);
}

/** @internal */
export function present(r: { snapshot: Snapshot; base: Base } | null, name: string, family: FamilyName, ifMissing: string): [Snapshot, Base] {
  if (r) return [r.snapshot, r.base];
  if (ifMissing === 'error') {
    throw new IptcError(`there is no ${family === 'ipv4' ? 'iptables' : 'ip6tables'} table '${name}' in this namespace (yet)`, {
      code: 'ERR_IPTC_ABSENT',
      errno: 2,
      table: name,
    });
  }
  if (!BUILTINS[name]) {
    throw new IptcError(`there is no table '${name}' in this namespace`, { code: 'ERR_IPTC_ABSENT', errno: 2, table: name });
  }
  return [Snapshot.pristine(family, name), { kind: 'absent' }];
}

/** @internal */
export function checkOptions(name: string, options: TableOptions): { family: FamilyName; netns: NetnsOption; ifMissing: 'empty' | 'error' | 'create'; backend: BackendChoice } {
  checkTableName(name);
  checkOptionsObject(options, 'options');
  const known = new Set(['family', 'netns', 'ifMissing', 'backend']);
  for (const k of Object.keys(options)) if (!known.has(k)) throw argumentError(`unknown option '${k}' (expected family, netns, ifMissing, backend)`);
  const family = options.family ?? 'ipv4';
  if (family !== 'ipv4' && family !== 'ipv6') throw argumentError(`family must be 'ipv4' or 'ipv6', got ${show(family)}`);
  const ifMissing = options.ifMissing ?? 'empty';
  if (!['empty', 'error', 'create'].includes(ifMissing)) throw argumentError(`ifMissing must be 'empty', 'error' or 'create', got ${show(ifMissing)}`);
  return { family, netns: options.netns, ifMissing, backend: checkBackend(options.backend) };
}
