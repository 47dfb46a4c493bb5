/**
 * The nf_tables backend: the tables iptables-nft makes (families ip and ip6;
 * raw, mangle, filter, security, nat), read with one consistent netlink dump
 * and handed over in the legacy form (see src-native/nft/), so that rule
 * objects, save(), diff and plan work on them unchanged. A commit hands the
 * addon the snapshot as a plan, as on the legacy path; it is checked against
 * the table as it is and written as one nf_tables batch, every rule encoded
 * as iptables-nft encodes it. Tables holding what iptables cannot show are
 * read-only.
 */
import type { Backend, Base, CommitRequest, Read } from './backend.js';
import { native, type FamilyName, type NativeAbsent, type NativeExpect, type NativeNftTable } from './native.js';
import { Snapshot } from './snapshot.js';

function toRead(family: FamilyName, table: string, t: NativeNftTable | NativeAbsent): Read | null {
  if ('absent' in t) return null;
  const skipped = t.skipped.map(([chain, position, handle, reason, nft]) => ({ chain, position, handle, reason, nft }));
  let readOnly: string | undefined;
  if (skipped.length) readOnly = `it holds ${skipped.length} rule${skipped.length === 1 ? '' : 's'} iptables cannot show (see skipped); use nft`;
  else if (t.dropped.length) readOnly = `it holds base chains iptables-nft did not make (${t.dropped.join(', ')}); use nft`;
  return { snapshot: Snapshot.fromRead(family, table, t), base: { kind: 'read', blob: t.blob, entries: t.numEntries }, readOnly, skipped, presentBaseChains: t.present };
}

function read(family: FamilyName, table: string, fd: number, create: boolean, async: true, forChange?: boolean): Promise<Read | null>;
function read(family: FamilyName, table: string, fd: number, create: boolean, async: false, forChange?: boolean): Read | null;
function read(family: FamilyName, table: string, fd: number, _create: boolean, async: boolean, forChange = false): Read | null | Promise<Read | null> {
  // A read for a change may be the table as this process last left it, when
  // nothing has changed the ruleset since: no dump (counters as of then).
  if (async) return native.nftReadTable(family, table, fd, true, forChange).then((t) => toRead(family, table, t));
  return toRead(family, table, native.nftReadTable(family, table, fd, false, forChange));
}

function expectOf(base: Base): NativeExpect {
  if (base.kind === 'read') return { base: base.blob };
  if (base.kind === 'absent') return { absent: true };
  return {};
}

/**
 * A command that makes nothing in a table nf_tables does not have (-Z, -F or
 * -X of every chain) makes no table, as with iptables-nft.
 */
function makesNothing(c: CommitRequest): boolean {
  const snap = c.snapshot;
  return c.base.kind === 'absent' && snap.chains.every((ch) => ch.builtin && ch.length === 0 && !snap.wantBaseChains.has(ch.name));
}

function commit(c: CommitRequest, async: true): Promise<string>;
function commit(c: CommitRequest, async: false): string;
function commit(c: CommitRequest, async: boolean): string | Promise<string> {
  if (makesNothing(c)) return async ? Promise.resolve('') : '';
  const plan = c.snapshot.plan();
  // (No xtables lock: iptables-nft takes none; the batch is atomic, and made
  // against the generation it checked the table at.)
  const expect = { ...expectOf(c.base), remember: c.forChange === true };
  if (async) return native.nftCommitTable(c.family, c.table, c.netnsFd, plan, expect, true);
  return native.nftCommitTable(c.family, c.table, c.netnsFd, plan, expect, false);
}

export const nft: Backend = { name: 'nft', read, commit };
