/**
 * Loads the addon and declares its exact shape. Everything else in src/
 * talks to the kernel only through `native`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IptcError } from './errors.js';

export type FamilyName = 'ipv4' | 'ipv6';

/** Rules printed for rule objects: columns, not objects (see src-native/xt/print.h). @internal */
export interface NativeRules {
  /** Per rule what iptables-save prints after `-A CHAIN` (leading space), each followed by a NUL. */
  specs: string;
  /** packets, bytes for each rule. */
  counters: BigUint64Array;
  matchCounts: Uint32Array;
  /** Per rule: 1 when the target is an extension (LOG, DNAT, ...), 0 for a verdict or jump. */
  targetKinds: Uint8Array;
  /** NUL-terminated fields: per match name, save text; then target name, save text. */
  text: string;
  /** Per rule, NUL-terminated: source, destination, in and out interface, protocol ('' when absent). */
  head: string;
  /** Per rule: which of those are negated (bits 0-4), -f (5), ! -f (6), -g (7). */
  headFlags: Uint8Array;
}

/** A chain as read: name, hook (-1: user chain), policy verdict, policy counters, the foot's entry index, its rules. @internal */
export type NativeChain = [name: string, hook: number, policy: number, packets: bigint, bytes: bigint, footIndex: number, first: number, count: number];

/** A legacy table as read: the kernel's bytes and where each chain and rule is in them. @internal */
export interface NativeTable {
  blob: Buffer;
  numEntries: number;
  chains: NativeChain[];
  /** Per rule: where its entry starts in blob, its index among all entries, the chain it jumps to (index in chains) or -1. */
  offsets: Uint32Array;
  entryIndex: Uint32Array;
  jumps: Int32Array;
}

/** @internal */
export interface NativeAbsent {
  absent: true;
}

/** An iptables-nft table as read: in the same form as a legacy one (entries laid out as the legacy kernel would), and what is nf_tables' own. @internal */
export interface NativeNftTable extends NativeTable {
  /** Per rule: its nf_tables handle. */
  handles: BigUint64Array;
  /** Rules left out (not iptables' to show): chain, position in it (1-based), handle, why, libnftnl's text of it. */
  skipped: [chain: string, position: number, handle: bigint, why: string, text: string][];
  /** Base chains iptables-nft would not have made (other hook, priority or type), left out with their rules. */
  dropped: string[];
  /** The ruleset generation the dump is of. */
  genid: number;
  /** The base chains nf_tables has (iptables-nft makes one when a command first names it). */
  present: string[];
}

/** An iptables-nft table's counters: per rule (dump order) its handle and packets, bytes; per base chain its policy's. @internal */
export interface NativeNftCounters {
  genid: number;
  handles: BigUint64Array;
  counters: BigUint64Array;
  policies: [chain: string, packets: bigint, bytes: bigint][];
}

/** What each kernel firewall holds in a namespace, for one family (see src-native/which.cc). @internal */
export interface NativeBackendFacts {
  legacyTables: string[];
  legacyWithRules: string[];
  nftTables: string[];
}

/** @internal */
export interface NativeParsed {
  /** The entries, back to back. */
  bytes: Buffer;
  /** Per entry where it starts. */
  offsets: Uint32Array;
  /** Per rule how many entries it made (several when -s/-d list several addresses). */
  perRule: Uint32Array;
  /** Per rule what extensions printed on stderr while parsing ('' for nothing). */
  warnings: string[];
}

/** A chain of a plan: name, hook (-1: user chain), policy verdict, counter mode, counters, old foot (-1 none, -2 the kernel's), rule count. @internal */
export type NativePlanChain = [name: string, hook: number, policy: number, mode: number, packets: bigint, bytes: bigint, oldFoot: number, count: number];

/** A pool of rules: their entries back to back, where each starts, the chain id each jumps to (-1: none). @internal */
export interface NativePool {
  bytes: Buffer;
  /** Absent for rules not parsed yet (the pending pool). */
  offsets?: Uint32Array;
  jumps: Int32Array;
  /** The table as read: each rule's index among the kernel's entries (its counters' slot). */
  entryIndex?: Uint32Array;
}

/** A table described for printing or committing (src-native/xt/plan.h). @internal */
export interface NativePlan {
  pools: NativePool[];
  chains: NativePlanChain[];
  /** 3 per run: pool, first rule, count; every chain's rules, in order. */
  runs: Uint32Array;
  /** Chain id -> index in chains (-1: none). */
  chainIndex: Int32Array;
  /** User chains renamed since the read: [name then, name now] (nf_tables renames them in place). */
  renames?: [string, string][];
  /** nf_tables: built-in chains a command named (-A, -I, -F, -P), which iptables-nft makes if they are not there. */
  wantBaseChains?: string[];
  /** nf_tables: -X with no chain ran; base chains with no rules and an ACCEPT policy go, as iptables-nft has it. */
  dropIdleBaseChains?: boolean;
  /** Rules of pool 0 whose counters were zeroed in the snapshot. */
  zeroed?: Uint32Array;
  /** Rules of pool `pool` still given as words, parsed where the plan is used. */
  pending?: { pool: number; words: Buffer; counts: Uint32Array; chainJumps: Uint8Array; counters?: BigUint64Array };
}

/** iptables-restore input turned into operations (src-native/xt/restore.h). @internal */
export interface NativeCompiled {
  /** table, line of its *table, first op, op count */
  blocks: [string, number, number, number][];
  names: string[];
  /** 8 per op: kind (1 chain, 2 -A, 3 other command), line, chain, jump, first entry, entries, arg, has counters. */
  ops: Uint32Array;
  counters: BigUint64Array;
  bytes: Buffer;
  offsets: Uint32Array;
  /** The first bad line: the blocks before it are complete, this one is not there. */
  error?: IptcError;
}

/** What a commit checks the kernel's table against first. @internal */
export interface NativeExpect {
  /** The table as the snapshot read it (its entries). */
  base?: Buffer;
  /** Read under the xtables lock the caller still holds (legacy): the table's size and entry count suffice. */
  locked?: boolean;
  entries?: number;
  /** The snapshot found the table absent. */
  absent?: boolean;
  /** nf_tables: a change (Table.update): keep the table as the commit leaves it, for the next change. */
  remember?: boolean;
}

/** @internal */
export interface NativeCounterLayout {
  version: number;
  chains: { name: string; builtin: boolean; first: number; count: number; policy: number }[];
  keys: BigUint64Array;
}

/** @internal */
export interface NativeCounterRead {
  counters: BigUint64Array;
  /** Present when the table's rules changed since the last read (and on the first). */
  layout?: NativeCounterLayout;
}

/** @internal */
export interface NativeCounterReader {
  read(async: false): NativeCounterRead;
  read(async: true): Promise<NativeCounterRead>;
  close(): void;
}

/** @internal */
export interface Native {
  CounterReader: new (family: FamilyName, table: string, netnsFd: number) => NativeCounterReader;
  setErrorClass(cls: typeof IptcError): void;
  netnsCreate(): number;
  netnsOpen(path: string): number;
  netnsClose(fd: number): void;
  netnsInode(fd: number): bigint;
  /** With create false, a table that does not exist is reported as absent (and not made). */
  readTable(family: FamilyName, table: string, netnsFd: number, async: false, create: boolean): NativeTable | NativeAbsent;
  readTable(family: FamilyName, table: string, netnsFd: number, async: true, create: boolean): Promise<NativeTable | NativeAbsent>;
  /** reuse: for a change (see src-native/nft/known.h): the table as last known while the generation has not moved. */
  nftReadTable(family: FamilyName, table: string, netnsFd: number, async: false, reuse?: boolean): NativeNftTable | NativeAbsent;
  nftReadTable(family: FamilyName, table: string, netnsFd: number, async: true, reuse?: boolean): Promise<NativeNftTable | NativeAbsent>;
  nftCommitTable(family: FamilyName, table: string, netnsFd: number, plan: NativePlan, expect: NativeExpect, async: false): string;
  nftCommitTable(family: FamilyName, table: string, netnsFd: number, plan: NativePlan, expect: NativeExpect, async: true): Promise<string>;
  /** How often a read for a change found its nf_tables table known (no dump), brought it forward from the kernel's announcements (no dump), or dumped it (src-native/nft/known.h). For tests. */
  nftKnownStats(): { same: number; caughtUp: number; fellBack: number };
  nftCounters(family: FamilyName, table: string, netnsFd: number, async: false): NativeNftCounters;
  nftCounters(family: FamilyName, table: string, netnsFd: number, async: true): Promise<NativeNftCounters>;
  backendFacts(family: FamilyName, netnsFd: number, async: false): NativeBackendFacts;
  backendFacts(family: FamilyName, netnsFd: number, async: true): Promise<NativeBackendFacts>;
  nftTables(netnsFd: number, async: false): { family: string; name: string; chains: number; rules: number }[];
  nftTables(netnsFd: number, async: true): Promise<{ family: string; name: string; chains: number; rules: number }[]>;
  listTables(family: FamilyName, netnsFd: number, async: false): string[];
  listTables(family: FamilyName, netnsFd: number, async: true): Promise<string[]>;
  /** Parses rules given as words (each followed by a NUL, as a string or UTF-8 Buffer; counts per rule; 1 where -j/-g names a user chain). Throws with `index` of a bad rule. */
  parseRules(family: FamilyName, table: string, words: string | Buffer, counts: Uint32Array, chainJumps: Uint8Array): NativeParsed;
  /** Whether an extension target of that name is installed (LOG, MARK, ...). */
  targetExists(family: FamilyName, name: string): boolean;
  describeRules(family: FamilyName, plan: NativePlan): NativeRules;
  /** What `iptables -L -n` prints after each rule's addresses, the kernel's name of its extension target or '' (NUL after each), and its protocol number. */
  listRules(family: FamilyName, plan: NativePlan): { text: string; targets: string; protos: Uint16Array };
  compileRestore(family: FamilyName, text: string, options: { counters: boolean; noflush: boolean; table?: string }, async: false): NativeCompiled;
  /** `text` a string, or UTF-8 pieces (then nothing is converted on this thread). */
  compileRestore(family: FamilyName, text: string | Buffer[], options: { counters: boolean; noflush: boolean; table?: string }, async: true): Promise<NativeCompiled>;
  /** The plan's rules as iptables-save `-A` lines (with `[p:b] ` when counters). */
  saveRules(family: FamilyName, plan: NativePlan, counters: boolean): string;
  commitTable(family: FamilyName, table: string, netnsFd: number, plan: NativePlan, expect: NativeExpect,
    lockPath: string, lockTimeoutMs: number, async: false): string;
  commitTable(family: FamilyName, table: string, netnsFd: number, plan: NativePlan, expect: NativeExpect,
    lockPath: string, lockTimeoutMs: number, async: true): Promise<string>;
  /** Takes the xtables lock; the fd holds it until lockRelease. (commitTable with lockPath '' then skips locking.) */
  lockAcquire(path: string, timeoutMs: number, async: false): number;
  lockAcquire(path: string, timeoutMs: number, async: true): Promise<number>;
  /** One non-blocking try: the fd, or -1 when another process holds the lock. */
  lockTry(path: string): number;
  lockRelease(fd: number): void;
}

const SYSTEM_PACKAGES = 'libxtables12 iptables (to build from source: libiptc-dev libxtables-dev pkg-config g++ make python3)';

function load(): Native {
  if (process.platform !== 'linux') {
    throw new IptcError('iptc-node drives the Linux kernel firewall and runs only on Linux', { code: 'ERR_IPTC_NATIVE' });
  }
  const require = createRequire(import.meta.url);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  try {
    const gypBuild = require('node-gyp-build') as (dir: string) => unknown;
    return gypBuild(root) as Native;
  } catch (e) {
    const cause = e instanceof Error ? e.message : String(e);
    throw new IptcError(
      `iptc-node could not load its native addon: ${cause}\n` +
        `Install the system packages (Debian/Ubuntu names): ${SYSTEM_PACKAGES}, then run npm rebuild iptc-node.`,
      { code: 'ERR_IPTC_NATIVE' },
    );
  }
}

/**
 * An error the addon rejects a promise with is made on the event loop's
 * turn after the work, with no JavaScript frames: give it the stack of the
 * call that started the work (with V8's async frames, the caller's own).
 * @internal
 */
export function withCallerStack<T>(p: Promise<T>): Promise<T> {
  const site = new Error();
  return p.catch((e: unknown) => {
    if (e instanceof Error && site.stack) e.stack = `${e.name}: ${e.message}\n${site.stack.slice(site.stack.indexOf('\n') + 1)}`;
    throw e;
  });
}

function withCallerStacks(n: Native): Native {
  const out = Object.create(Object.getPrototypeOf(n) as object) as Record<string, unknown>;
  for (const [k, f] of Object.entries(n)) {
    if (typeof f !== 'function' || k === 'CounterReader') {
      out[k] = f;
      continue;
    }
    out[k] = (...args: unknown[]) => {
      const r: unknown = (f as (...a: unknown[]) => unknown)(...args);
      return r instanceof Promise ? withCallerStack(r) : r;
    };
  }
  return out as unknown as Native;
}

/** @internal */
export const native: Native = withCallerStacks(load());
native.setErrorClass(IptcError);
