/**
 * What a Table needs from the kernel: read a table into a Snapshot, and
 * commit a Snapshot back. One Table over this interface; each kernel
 * firewall is one implementation: legacy xtables (legacy.ts) and the
 * nf_tables tables of iptables-nft (nftables.ts).
 */
import type { FamilyName } from './native.js';
import type { Snapshot } from './snapshot.js';

export type BackendName = 'legacy' | 'nft';

/** What a snapshot was read from: the kernel's table (to check it is unchanged at commit), or nothing yet. @internal */
export type Base = { kind: 'read'; blob: Buffer; entries: number } | { kind: 'absent' } | { kind: 'none' };

/** @internal */
export interface Read {
  snapshot: Snapshot;
  base: Base;
  /** Why the table cannot be written through this backend, if it cannot. */
  readOnly?: string;
  /** Rules the backend could not show (nf_tables rules that are not iptables'). */
  skipped?: SkippedRule[];
  /** nf_tables: the built-in chains that exist there (the others are shown empty, ACCEPT). */
  presentBaseChains?: readonly string[];
}

/** A rule left out of a snapshot because it is not iptables' (written with nft, or by another program). */
export interface SkippedRule {
  chain: string;
  /** Its position among the chain's rules in the kernel (1-based). */
  position: number;
  /** Its nf_tables handle. */
  handle: bigint;
  /** Why it cannot be shown as an iptables rule. */
  reason: string;
  /** libnftnl's text of its expressions. */
  nft: string;
}

/** @internal */
export interface CommitRequest {
  family: FamilyName;
  table: string;
  netnsFd: number;
  snapshot: Snapshot;
  base: Base;
  /** '' when the caller holds the xtables lock already. */
  lockPath: string;
  /** The snapshot was read while the caller held the lock it still holds: no need to read the table again. */
  readUnderLock: boolean;
  lockTimeoutMs: number;
  /** The snapshot was read for a change (Table.update). */
  forChange?: boolean;
}

/** @internal */
export interface Backend {
  readonly name: BackendName;
  /** null: the table does not exist (and `create` was false). */
  /** `forChange`: read to change and commit at once (Table.update); a backend may answer from what it last knew (nft). */
  read(family: FamilyName, table: string, netnsFd: number, create: boolean, async: true, forChange?: boolean): Promise<Read | null>;
  read(family: FamilyName, table: string, netnsFd: number, create: boolean, async: false, forChange?: boolean): Read | null;
  /** Commits; resolves to what extensions warned of while parsing rules not parsed before ('' for nothing). */
  commit(c: CommitRequest, async: true): Promise<string>;
  commit(c: CommitRequest, async: false): string;
}
