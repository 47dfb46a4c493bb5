/**
 * CounterReader: rule and policy counters of one table, polled many times a
 * second. One raw kernel read per poll (no libiptc cache, no rule objects):
 * packets and bytes for every rule and policy land in one BigUint64Array.
 * The layout (which slot is which rule) is rebuilt only when the table's
 * rules change; each slot has a stable key to follow a rule across
 * reorders (legacy: a digest of the rule; nf_tables: the rule's handle).
 * rates() turns two reads into per-second rates.
 */
import { checkOptionsObject } from './words.js';
import { withToJSON } from './json.js';
import { argumentError, IptcError, show } from './errors.js';
import type { BackendName } from './backend.js';
import { native, withCallerStack, type FamilyName, type NativeAbsent, type NativeCounterLayout, type NativeCounterRead, type NativeCounterReader, type NativeNftCounters, type NativeNftTable } from './native.js';
import { checkTableName, type TableName } from './names.js';
import { withNetnsFd, type NetnsOption } from './netns.js';
import { checkBackend, resolveBackendSync, type BackendChoice } from './which.js';

export interface CounterChain {
  name: string;
  builtin: boolean;
  /** Slot of rule 1; the chain's rules are slots first .. first + count - 1. */
  first: number;
  count: number;
  /** Slot of the policy (built-in chains), or -1. */
  policy: number;
}

export interface CounterLayout {
  /** Grows by one each time the table's rules change. */
  version: number;
  chains: CounterChain[];
  /** Per slot: a digest of the rule's contents, or its nf_tables handle (for a policy, a digest of its chain's name). */
  keys: BigUint64Array;
}

export interface CounterSnapshot {
  layout: CounterLayout;
  /** packets, bytes for each slot: slot i at [2i], [2i + 1]. */
  counters: BigUint64Array;
  /** process.hrtime.bigint() when the read finished. */
  time: bigint;
}

/**
 * Where a CounterReader reads: the family, the namespace, the backend.
 * @example
 * ```ts
 * import { CounterReader, type CounterReaderOptions } from 'iptc-node';
 * const options: CounterReaderOptions = { family: 'ipv6', netns: 'edge', backend: 'legacy' };
 * const reader = new CounterReader('filter', options);
 * ```
 */
export interface CounterReaderOptions {
  /** 'ipv4' (the default) or 'ipv6'. */
  family?: FamilyName;
  /** The network namespace: a Netns, an `ip netns` name, or a path. Default: the caller's own. */
  netns?: NetnsOption;
  /** 'legacy', 'nft' or 'auto' (the default; decided once, when the reader is made). */
  backend?: BackendChoice;
}

/**
 * Reads every rule's and policy's counters of one table, for polling many
 * times a second: one raw kernel read per poll, no per-rule objects.
 * @example
 * ```ts
 * import { CounterReader, rates, slotOf } from 'iptc-node';
 * const reader = new CounterReader('filter', { netns: 'edge' });
 * const a = await reader.read();
 * await new Promise((r) => setTimeout(r, 1000));
 * const b = await reader.read();
 * console.log(rates(a, b).packetsPerSecond[slotOf(b.layout, 'INPUT', 1)]);
 * reader.close();
 * ```
 */
export class CounterReader {
  readonly table: TableName;
  readonly family: FamilyName;
  /** Which kernel firewall it reads ('auto' decides once, when it is made). */
  readonly backend: BackendName;
  #native: NativeCounterReader | null;
  #layout: CounterLayout | undefined;
  #pending: Promise<unknown> = Promise.resolve();

  /** Opens a raw socket (legacy) or holds the namespace (nf_tables) once; every read reuses it. */
  constructor(table: TableName, options: CounterReaderOptions = {}) {
    checkTableName(table);
    checkOptionsObject(options, 'options', ['family', 'netns', 'backend']);
    const family = options.family ?? 'ipv4';
    if (family !== 'ipv4' && family !== 'ipv6') throw argumentError(`family must be 'ipv4' or 'ipv6', got ${show(family)}`);
    const choice = checkBackend(options.backend);
    this.table = table;
    this.family = family;
    try {
      [this.backend, this.#native] = withNetnsFd(options.netns, (fd) => {
        const b = resolveBackendSync(choice, family, fd).name;
        return [b, b === 'nft' ? new NftCounterSource(family, table, fd) : new native.CounterReader(family, table, fd)] as const;
      });
    } catch (e) {
      // The addon names the table in words only: the field, as Table.open's ERR_IPTC_ABSENT has it.
      if (e instanceof IptcError && e.code === 'ERR_IPTC_ABSENT' && e.table === undefined) e.table = table;
      throw e;
    }
  }

  /**
   * The layout of the last read (undefined before the first).
   * @example
   * ```ts
   * import { CounterReader } from 'iptc-node';
   * const reader = new CounterReader('filter');
   * reader.readSync();
   * for (const c of reader.layout?.chains ?? []) console.log(c.name, c.count);
   * ```
   */
  get layout(): CounterLayout | undefined {
    return this.#layout;
  }

  /**
   * Reads every counter off the event loop. Concurrent calls on one reader queue up.
   * @example
   * ```ts
   * import { CounterReader } from 'iptc-node';
   * const { counters, layout } = await new CounterReader('filter').read();
   * console.log(layout.chains[0]?.name, counters[0], counters[1]); // packets, bytes of slot 0
   * ```
   */
  read(): Promise<CounterSnapshot> {
    const r = this.#open();
    const run = this.#pending.then(
      () => r.read(true),
      () => r.read(true),
    );
    this.#pending = run;
    return withCallerStack(run.then((x) => this.#snapshot(x)));
  }

  /**
   * read() on the calling thread.
   * @example
   * ```ts
   * import { CounterReader } from 'iptc-node';
   * const snap = new CounterReader('nat', { family: 'ipv6' }).readSync();
   * console.log(snap.counters.length / 2, 'slots');
   * ```
   */
  readSync(): CounterSnapshot {
    return this.#snapshot(this.#open().read(false));
  }

  /**
   * Releases the socket (or namespace); reads after it throw.
   * @example
   * ```ts
   * import { CounterReader } from 'iptc-node';
   * const reader = new CounterReader('filter');
   * try { console.log((await reader.read()).counters); } finally { reader.close(); }
   * ```
   */
  close(): void {
    this.#native?.close();
    this.#native = null;
  }

  #open(): NativeCounterReader {
    if (!this.#native) throw new IptcError('this CounterReader is closed', { code: 'ERR_IPTC_CLOSED' });
    return this.#native;
  }

  #snapshot(x: NativeCounterRead): CounterSnapshot {
    if (x.layout) this.#layout = Object.freeze(x.layout);
    return withToJSON({ layout: this.#layout!, counters: x.counters, time: process.hrtime.bigint() });
  }
}

/**
 * Slot of rule `position` (1-based) of `chain`, or -1.
 * @example
 * ```ts
 * import { CounterReader, slotOf } from 'iptc-node';
 * const { layout, counters } = new CounterReader('filter').readSync();
 * const slot = slotOf(layout, 'INPUT', 1);
 * if (slot >= 0) console.log(counters[2 * slot], counters[2 * slot + 1]); // packets, bytes
 * ```
 */
export function slotOf(layout: CounterLayout, chain: string, position: number): number {
  const c = layout.chains.find((x) => x.name === chain);
  return c && Number.isInteger(position) && position >= 1 && position <= c.count ? c.first + position - 1 : -1;
}

export interface Rates {
  /** The layout of the later read: rates are per slot of it. */
  layout: CounterLayout;
  packetsPerSecond: Float64Array;
  bytesPerSecond: Float64Array;
  /** Seconds between the two reads. */
  seconds: number;
}

/**
 * Per-second rates between two reads. Rules are matched by key when the
 * layout changed in between (a rule moved, others were added); a rule new in
 * `next`, or whose counters went down (zeroed, or replaced), counts from zero.
 * @example
 * ```ts
 * import { CounterReader, rates } from 'iptc-node';
 * const reader = new CounterReader('filter');
 * const before = reader.readSync();
 * await new Promise((r) => setTimeout(r, 1000));
 * const r = rates(before, reader.readSync());
 * r.layout.chains.forEach((c) => console.log(c.name, r.bytesPerSecond.slice(c.first, c.first + c.count)));
 * ```
 */
export function rates(prev: CounterSnapshot, next: CounterSnapshot): Rates {
  const seconds = Number(next.time - prev.time) / 1e9;
  const n = next.layout.keys.length;
  const pps = new Float64Array(n);
  const bps = new Float64Array(n);
  const from = slotMap(prev.layout, next.layout);
  for (let i = 0; i < n; i++) {
    const j = from[i]!;
    let dp = next.counters[2 * i]!;
    let db = next.counters[2 * i + 1]!;
    if (j >= 0) {
      const p0 = prev.counters[2 * j]!;
      const b0 = prev.counters[2 * j + 1]!;
      if (dp >= p0 && db >= b0) {
        dp -= p0;
        db -= b0;
      }
    }
    pps[i] = seconds > 0 ? Number(dp) / seconds : 0;
    bps[i] = seconds > 0 ? Number(db) / seconds : 0;
  }
  return { layout: next.layout, packetsPerSecond: pps, bytesPerSecond: bps, seconds };
}

/** For each slot of `b`, the slot of the same rule in `a` (or -1). */
function slotMap(a: CounterLayout, b: CounterLayout): Int32Array {
  const out = new Int32Array(b.keys.length).fill(-1);
  if (a === b || a.version === b.version) {
    for (let i = 0; i < out.length; i++) out[i] = i;
    return out;
  }
  // Equal rules can repeat: pair them up in order.
  const where = new Map<bigint, number[]>();
  a.keys.forEach((k, i) => {
    const l = where.get(k);
    if (l) l.push(i);
    else where.set(k, [i]);
  });
  b.keys.forEach((k, i) => {
    const l = where.get(k);
    if (l && l.length) out[i] = l.shift()!;
  });
  return out;
}

/**
 * CounterReader's source for an iptables-nft table: per read, one dump of
 * the table's rules that keeps only each rule's handle and counter; the
 * layout comes from a full read, made again only when the ruleset's
 * generation moved.
 */
class NftCounterSource implements NativeCounterReader {
  readonly #family: FamilyName;
  readonly #table: string;
  #fd: number;
  #genid = -1;
  #version = 0;
  #slots = new Map<bigint, number>();
  #policies = new Map<string, number>();
  #layout: NativeCounterLayout | undefined;

  constructor(family: FamilyName, table: string, fd: number) {
    this.#family = family;
    this.#table = table;
    // Its own hold on the namespace, for as long as the reader lives.
    this.#fd = fd < 0 ? -1 : native.netnsOpen(`/proc/self/fd/${fd}`);
  }

  read(async: false): NativeCounterRead;
  read(async: true): Promise<NativeCounterRead>;
  read(async: boolean): NativeCounterRead | Promise<NativeCounterRead> {
    if (!async) {
      let c = native.nftCounters(this.#family, this.#table, this.#fd, false);
      let changed = false;
      for (let tries = 0; c.genid !== this.#genid && tries < 3; tries++) {
        this.#relayout(native.nftReadTable(this.#family, this.#table, this.#fd, false));
        changed = true;
        c = native.nftCounters(this.#family, this.#table, this.#fd, false);
      }
      return this.#place(c, changed);
    }
    return (async () => {
      let c = await native.nftCounters(this.#family, this.#table, this.#fd, true);
      let changed = false;
      for (let tries = 0; c.genid !== this.#genid && tries < 3; tries++) {
        this.#relayout(await native.nftReadTable(this.#family, this.#table, this.#fd, true));
        changed = true;
        c = await native.nftCounters(this.#family, this.#table, this.#fd, true);
      }
      return this.#place(c, changed);
    })();
  }

  close(): void {
    if (this.#fd >= 0) native.netnsClose(this.#fd);
    this.#fd = -2;
  }

  #relayout(t: NativeNftTable | NativeAbsent): void {
    this.#slots = new Map();
    this.#policies = new Map();
    const chains: NativeCounterLayout['chains'] = [];
    const keys: bigint[] = [];
    if ('absent' in t) {
      this.#genid = -1;
    } else {
      this.#genid = t.genid;
      for (const [name, hook, , , , , first, count] of t.chains) {
        const c = { name, builtin: hook >= 0, first: keys.length, count, policy: -1 };
        for (let i = first; i < first + count; i++) {
          this.#slots.set(t.handles[i]!, keys.length);
          keys.push(t.handles[i]!);
        }
        if (hook >= 0) {
          c.policy = keys.length;
          this.#policies.set(name, keys.length);
          keys.push(digestName(name));
        }
        chains.push(c);
      }
    }
    this.#layout = { version: ++this.#version, chains, keys: BigUint64Array.from(keys) };
  }

  #place(c: NativeNftCounters, changed: boolean): NativeCounterRead {
    const counters = new BigUint64Array(2 * this.#layout!.keys.length);
    for (let i = 0; i < c.handles.length; i++) {
      const slot = this.#slots.get(c.handles[i]!);
      if (slot === undefined) continue;
      counters[2 * slot] = c.counters[2 * i]!;
      counters[2 * slot + 1] = c.counters[2 * i + 1]!;
    }
    for (const [name, packets, bytes] of c.policies) {
      const slot = this.#policies.get(name);
      if (slot === undefined) continue;
      counters[2 * slot] = packets;
      counters[2 * slot + 1] = bytes;
    }
    return changed ? { counters, layout: this.#layout } : { counters };
  }
}

/** FNV-1a, 64 bits, of a chain name: a policy slot's key. */
function digestName(name: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(name, 'utf8')) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h;
}
