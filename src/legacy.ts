/**
 * The legacy xtables backend: a table is one blob the kernel hands over
 * (GET_ENTRIES) and takes back whole (SET_REPLACE). Reading keeps the
 * kernel's bytes as the snapshot's first pool; committing hands the addon
 * the snapshot as a plan, which it parses, checks against the kernel's
 * table, builds and swaps in, off the event loop in the async form.
 */
import type { Backend, Base, CommitRequest, Read } from './backend.js';
import { native, type FamilyName, type NativeAbsent, type NativeExpect, type NativeTable } from './native.js';
import { Snapshot } from './snapshot.js';

function toRead(family: FamilyName, table: string, t: NativeTable | NativeAbsent): Read | null {
  if ('absent' in t) return null;
  return { snapshot: Snapshot.fromRead(family, table, t), base: { kind: 'read', blob: t.blob, entries: t.numEntries } };
}

function expectOf(base: Base, underLock: boolean): NativeExpect {
  if (base.kind === 'read') return underLock ? { base: base.blob, locked: true, entries: base.entries } : { base: base.blob };
  if (base.kind === 'absent') return { absent: true };
  return {};
}

function read(family: FamilyName, table: string, fd: number, create: boolean, async: true): Promise<Read | null>;
function read(family: FamilyName, table: string, fd: number, create: boolean, async: false): Read | null;
function read(family: FamilyName, table: string, fd: number, create: boolean, async: boolean): Read | null | Promise<Read | null> {
  if (async) return native.readTable(family, table, fd, true, create).then((t) => toRead(family, table, t));
  return toRead(family, table, native.readTable(family, table, fd, false, create));
}

function commit(c: CommitRequest, async: true): Promise<string>;
function commit(c: CommitRequest, async: false): string;
function commit(c: CommitRequest, async: boolean): string | Promise<string> {
  const plan = c.snapshot.plan();
  const expect = expectOf(c.base, c.readUnderLock);
  if (async) return native.commitTable(c.family, c.table, c.netnsFd, plan, expect, c.lockPath, c.lockTimeoutMs, true);
  return native.commitTable(c.family, c.table, c.netnsFd, plan, expect, c.lockPath, c.lockTimeoutMs, false);
}

export const legacy: Backend = { name: 'legacy', read, commit };
