/**
 * The nf_tables backend: the tables iptables-nft makes (families ip and ip6;
 * raw, mangle, filter, security, nat), read with one consistent netlink dump
 * and handed over in the legacy form (see src-native/nft/), so that rule
 * objects, save(), diff and plan work on them unchanged. Writing them is
 * not built yet: such a snapshot is read-only.
 */
import type { Backend, CommitRequest, Read } from './backend.js';
import { IptcError } from './errors.js';
import { native, type FamilyName, type NativeAbsent, type NativeNftTable } from './native.js';
import { Snapshot } from './snapshot.js';

const NOT_YET = 'iptc-node does not write nf_tables tables yet; change them with iptables-nft';

function toRead(family: FamilyName, table: string, t: NativeNftTable | NativeAbsent): Read | null {
  if ('absent' in t) return null;
  const skipped = t.skipped.map(([chain, position, handle, reason, nft]) => ({ chain, position, handle, reason, nft }));
  let readOnly = NOT_YET;
  if (skipped.length) readOnly = `it holds ${skipped.length} rule${skipped.length === 1 ? '' : 's'} iptables cannot show (see skipped); use nft`;
  else if (t.dropped.length) readOnly = `it holds base chains iptables-nft did not make (${t.dropped.join(', ')}); use nft`;
  return { snapshot: Snapshot.fromRead(family, table, t), base: { kind: 'read', blob: t.blob, entries: t.numEntries }, readOnly, skipped };
}

function read(family: FamilyName, table: string, fd: number, create: boolean, async: true): Promise<Read | null>;
function read(family: FamilyName, table: string, fd: number, create: boolean, async: false): Read | null;
function read(family: FamilyName, table: string, fd: number, _create: boolean, async: boolean): Read | null | Promise<Read | null> {
  if (async) return native.nftReadTable(family, table, fd, true).then((t) => toRead(family, table, t));
  return toRead(family, table, native.nftReadTable(family, table, fd, false));
}

function commit(c: CommitRequest, async: true): Promise<void>;
function commit(c: CommitRequest, async: false): void;
function commit(c: CommitRequest, async: boolean): void | Promise<void> {
  const e = new IptcError(`cannot write the nf_tables ${c.table} table: ${NOT_YET}`, { code: 'ERR_IPTC_READONLY', table: c.table });
  if (async) return Promise.reject(e);
  throw e;
}

export const nft: Backend = { name: 'nft', read, commit };
