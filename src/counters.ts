/**
 * CounterReader: rule and policy counters of one table, polled many times a
 * second. One raw kernel read per poll (no libiptc cache, no rule objects):
 * packets and bytes for every rule and policy land in one BigUint64Array.
 * The layout (which slot is which rule) is rebuilt only when the table's
 * rules change; each slot has a stable key (a digest of the rule) to follow
 * a rule across reorders. rates() turns two reads into per-second rates.
 */
import { argumentError, show } from './errors.js';
import { native, type FamilyName, type NativeCounterRead, type NativeCounterReader } from './native.js';
import { checkTableName } from './names.js';
import { withNetnsFd, type NetnsOption } from './netns.js';

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
  /** Per slot: a digest of the rule's contents (for a policy, of its chain's name). */
  keys: BigUint64Array;
}

export interface CounterSnapshot {
  layout: CounterLayout;
  /** packets, bytes for each slot: slot i at [2i], [2i + 1]. */
  counters: BigUint64Array;
  /** process.hrtime.bigint() when the read finished. */
  time: bigint;
}

export class CounterReader {
  readonly table: string;
  readonly family: FamilyName;
  #native: NativeCounterReader | null;
  #layout: CounterLayout | undefined;
  #pending: Promise<unknown> = Promise.resolve();

  /** Opens a raw socket in the namespace once; every read reuses it. */
  constructor(table: string, options: { family?: FamilyName; netns?: NetnsOption } = {}) {
    checkTableName(table);
    const family = options.family ?? 'ipv4';
    if (family !== 'ipv4' && family !== 'ipv6') throw argumentError(`family must be 'ipv4' or 'ipv6', got ${show(family)}`);
    this.table = table;
    this.family = family;
    this.#native = withNetnsFd(options.netns, (fd) => new native.CounterReader(family, table, fd));
  }

  /** The layout of the last read (undefined before the first). */
  get layout(): CounterLayout | undefined {
    return this.#layout;
  }

  /** Reads every counter off the event loop. Concurrent calls on one reader queue up. */
  read(): Promise<CounterSnapshot> {
    const r = this.#open();
    const run = this.#pending.then(
      () => r.read(true),
      () => r.read(true),
    );
    this.#pending = run;
    return run.then((x) => this.#snapshot(x));
  }

  readSync(): CounterSnapshot {
    return this.#snapshot(this.#open().read(false));
  }

  close(): void {
    this.#native?.close();
    this.#native = null;
  }

  #open(): NativeCounterReader {
    if (!this.#native) throw argumentError('this CounterReader is closed');
    return this.#native;
  }

  #snapshot(x: NativeCounterRead): CounterSnapshot {
    if (x.layout) this.#layout = Object.freeze(x.layout);
    return { layout: this.#layout!, counters: x.counters, time: process.hrtime.bigint() };
  }
}

/** Slot of rule `position` (1-based) of `chain`, or -1. */
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
