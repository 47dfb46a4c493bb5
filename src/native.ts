/**
 * Loads the addon and declares its exact shape. Everything else in src/
 * talks to the kernel only through `native`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IptcError } from './errors.js';

export type FamilyName = 'ipv4' | 'ipv6';

/** Rules as they cross from C++: columns, not objects (see src-native/rules_out.h). */
export interface NativeRules {
  /** Per rule the raw ipt_ip (84 bytes) or ip6t_ip6 (136 bytes) header. */
  ip: Buffer;
  /** packets, bytes for each rule. */
  counters: BigUint64Array;
  matchCounts: Uint32Array;
  /** Per rule: 1 when the target is an extension (LOG, DNAT, ...), 0 for a verdict or jump. */
  targetKinds: Uint8Array;
  /** NUL-terminated fields: per match name, save text; then target name, save text. */
  text: string;
}

export interface NativeChain {
  name: string;
  builtin: boolean;
  policy?: string;
  packets?: bigint;
  bytes?: bigint;
  references: number;
  ruleCount: number;
}

export interface NativeTable extends NativeRules {
  chains: NativeChain[];
  digest: string;
}

export interface NativeAbsent {
  absent: true;
}

export interface NativeEncoded {
  /** One kernel entry per -s/-d address pair, back to back. */
  entries: Buffer;
  count: number;
  /** The verdict or chain name, when the target is no extension (ACCEPT, a chain, ...). */
  verdict?: string;
  /** What extensions printed on stderr while parsing. */
  warnings?: string;
}

/** Keep in step with OpCode in src-native/table_commit.cc. */
export const enum OpCode {
  Append = 1,
  Insert = 2,
  Replace = 3,
  Delete = 4,
  Flush = 5,
  ZeroChain = 6,
  ZeroRule = 7,
  NewChain = 8,
  DeleteChain = 9,
  Rename = 10,
  Policy = 11,
  AppendAll = 12,
}

export type NativeOp =
  | [OpCode.Append | OpCode.AppendAll, string, Buffer]
  | [OpCode.Insert | OpCode.Replace, string, Buffer, number]
  | [OpCode.Delete | OpCode.ZeroRule, string, number]
  | [OpCode.Flush | OpCode.ZeroChain | OpCode.NewChain | OpCode.DeleteChain, string]
  | [OpCode.Rename, string, string]
  | [OpCode.Policy, string, string, [bigint, bigint]?];

export interface NativeCounterLayout {
  version: number;
  chains: { name: string; builtin: boolean; first: number; count: number; policy: number }[];
  keys: BigUint64Array;
}

export interface NativeCounterRead {
  counters: BigUint64Array;
  /** Present when the table's rules changed since the last read (and on the first). */
  layout?: NativeCounterLayout;
}

export interface NativeCounterReader {
  read(async: false): NativeCounterRead;
  read(async: true): Promise<NativeCounterRead>;
  close(): void;
}

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
  nftTables(netnsFd: number, async: false): { family: string; name: string; chains: number; rules: number }[];
  nftTables(netnsFd: number, async: true): Promise<{ family: string; name: string; chains: number; rules: number }[]>;
  listTables(family: FamilyName, netnsFd: number, async: false): string[];
  listTables(family: FamilyName, netnsFd: number, async: true): Promise<string[]>;
  encodeRule(family: FamilyName, table: string, words: string[], jumpIsChain: boolean): NativeEncoded;
  /** Prints entries as iptables-save would; `verdicts[i]` names entry i's verdict or chain (null for an extension target). */
  describeEntries(family: FamilyName, entries: Buffer, verdicts: (string | null)[]): NativeRules;
  commitTable(family: FamilyName, table: string, netnsFd: number, digest: string, ops: NativeOp[],
    lockPath: string, lockTimeoutMs: number, async: false): void;
  commitTable(family: FamilyName, table: string, netnsFd: number, digest: string, ops: NativeOp[],
    lockPath: string, lockTimeoutMs: number, async: true): Promise<void>;
  /** Takes the xtables lock; the fd holds it until lockRelease. (commitTable with lockPath '' then skips locking.) */
  lockAcquire(path: string, timeoutMs: number, async: false): number;
  lockAcquire(path: string, timeoutMs: number, async: true): Promise<number>;
  /** One non-blocking try: the fd, or -1 when another process holds the lock. */
  lockTry(path: string): number;
  lockRelease(fd: number): void;
}

const SYSTEM_PACKAGES = 'libip4tc2 libip6tc2 libxtables12 iptables (to build from source: libiptc-dev libxtables-dev pkg-config g++ make python3)';

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

export const native: Native = load();
native.setErrorClass(IptcError);
