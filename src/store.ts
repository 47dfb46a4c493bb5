/**
 * Where a snapshot's rules are. A rule is a number, a reference into a pool
 * of kernel entries: pool 0 is the table as read (the kernel's own bytes,
 * never copied or printed until asked), later pools hold rules parsed since.
 * Rules given as words are kept unparsed in the pending pool until something
 * needs their bytes (a commit parses them off the event loop; reading them
 * back parses them here), then the pool turns into an ordinary one with the
 * same numbers. Nothing here knows chains or commands: see snapshot.ts.
 */
import { debug } from './debug.js';
import { IptcError } from './errors.js';
import { native, type FamilyName, type NativeParsed, type NativePlan, type NativePool, type NativeRules } from './native.js';
import { describeOrigin, Pending, type Origin } from './pending.js';
import type { Counters } from './rule.js';

export type { Origin } from './pending.js';

/** How many rules a pool may hold: a reference is pool * STRIDE + index. */
const STRIDE = 2 ** 24;
export const refOf = (pool: number, index: number): number => pool * STRIDE + index;
export const poolOf = (ref: number): number => Math.floor(ref / STRIDE);
export const indexOf = (ref: number): number => ref % STRIDE;

/** What becomes of a rule's (or policy's) counters at commit (src-native/xt/plan.h). */
export const enum CounterMode {
  /** Those the kernel has for it as the table is swapped (counting since the read goes on). */
  Kept = 0,
  /** Those minus the ones read: zeroed in the snapshot. */
  SinceRead = 1,
  /** The ones given (a new rule's: zero, or -c). */
  Set = 2,
  Zero = 3,
}

const LAYOUT = {
  ipv4: { counters: 96, header: 112 },
  ipv6: { counters: 152, header: 168 },
};

interface Pool {
  bytes: Buffer;
  offsets: Uint32Array;
  /** Per rule: the chain id it jumps or goes to, or -1. */
  jumps: Int32Array;
  /** The table as read: each rule's index among the kernel's entries (its counters' slot). */
  entryIndex?: Uint32Array;
  /** Printed specs, filled as rules are printed. */
  specs: (string | undefined)[];
}

export class RuleStore {
  readonly family: FamilyName;
  readonly table: string;
  readonly #pools: Pool[] = [];
  #pending: Pending | null = null;
  #pendingPool = -1;
  /** Rules of the table as read whose counters were zeroed in the snapshot. */
  readonly #zeroed = new Set<number>();
  /** Buffers of entries parsed elsewhere, and the pool each became. */
  readonly #adopted = new Map<Buffer, number>();
  /** What extensions printed on stderr while this snapshot's rules were parsed (iptables' "Warning: ..."), in order. */
  readonly warnings: string[] = [];

  constructor(family: FamilyName, table: string) {
    this.family = family;
    this.table = table;
  }

  /** The table as read becomes pool 0 (call once, first). */
  setBase(bytes: Buffer, offsets: Uint32Array, jumps: Int32Array, entryIndex: Uint32Array): void {
    this.#pools.push({ bytes, offsets, jumps, entryIndex, specs: [] });
  }

  get hasPending(): boolean {
    return this.#pending !== null && this.#pending.length > 0;
  }

  // ---- rules in ------------------------------------------------------------

  /** Keeps a rule as words, to be parsed later; it must make one entry. */
  addPending(words: readonly string[], chainJump: boolean, jump: number, counters: Counters | undefined, origin: Origin): number {
    if (!this.#pending) {
      this.#pending = new Pending();
      this.#pendingPool = this.#pools.length;
      this.#pools.push({ bytes: Buffer.alloc(0), offsets: new Uint32Array(0), jumps: new Int32Array(0), specs: [] });
    }
    return refOf(this.#pendingPool, this.#pending.push(words, chainJump, jump, counters, origin));
  }

  /**
   * Parses a rule now (several entries when -s/-d list several addresses).
   * Throws the parser's error. Returns the rules, and what extensions warned.
   */
  addParsed(words: readonly string[], chainJump: boolean, jump: number, counters: Counters | undefined): { refs: number[]; warnings: string } {
    const parsed = native.parseRules(this.family, this.table, words.join('\0'), Uint32Array.of(words.length), Uint8Array.of(chainJump ? 1 : 0));
    const pool = this.#pools.length;
    const L = LAYOUT[this.family];
    const n = parsed.offsets.length;
    if (counters) {
      for (let i = 0; i < n; i++) {
        parsed.bytes.writeBigUInt64LE(counters.packets, parsed.offsets[i]! + L.counters);
        parsed.bytes.writeBigUInt64LE(counters.bytes, parsed.offsets[i]! + L.counters + 8);
      }
    }
    this.#pools.push({ bytes: parsed.bytes, offsets: parsed.offsets, jumps: new Int32Array(n).fill(jump), specs: [] });
    this.warn(parsed.warnings);
    return { refs: Array.from({ length: n }, (_, i) => refOf(pool, i)), warnings: parsed.warnings[0] ?? '' };
  }

  /**
   * Takes entries parsed elsewhere (a restore's): `count` entries of `bytes`
   * from `first`, each jumping to chain `jump` (or -1), with `counters` set.
   * The Buffer becomes one pool, however many times it is used: returns it;
   * the rules are its entries from `first`.
   */
  adopt(bytes: Buffer, offsets: Uint32Array, first: number, count: number, jump: number, counters: Counters | undefined): number {
    let pool = this.#adopted.get(bytes);
    if (pool === undefined) {
      pool = this.#pools.length;
      this.#pools.push({ bytes, offsets, jumps: new Int32Array(offsets.length).fill(-1), specs: [] });
      this.#adopted.set(bytes, pool);
    }
    const p = this.#pools[pool]!;
    p.jumps.fill(jump, first, first + count);
    if (counters) {
      const L = LAYOUT[this.family];
      for (let i = first; i < first + count; i++) {
        bytes.writeBigUInt64LE(counters.packets, offsets[i]! + L.counters);
        bytes.writeBigUInt64LE(counters.bytes, offsets[i]! + L.counters + 8);
      }
    }
    return pool;
  }

  /**
   * Parses every pending rule now, on this thread. On a bad rule throws an
   * IptcError naming it and leaves everything pending.
   */
  parsePending(): void {
    const p = this.#pending;
    if (!p || p.length === 0) return;
    const batch = p.batch();
    let parsed: NativeParsed;
    try {
      parsed = native.parseRules(this.family, this.table, batch.words, batch.counts, batch.chainJumps);
    } catch (e) {
      throw this.explainPending(e);
    }
    this.warn(parsed.warnings);
    const L = LAYOUT[this.family];
    if (p.counters) {
      for (let i = 0; i < p.length; i++) {
        const c = p.countersOf(i);
        if (!c.packets && !c.bytes) continue;
        parsed.bytes.writeBigUInt64LE(c.packets, parsed.offsets[i]! + L.counters);
        parsed.bytes.writeBigUInt64LE(c.bytes, parsed.offsets[i]! + L.counters + 8);
      }
    }
    const pool = this.#pools[this.#pendingPool]!;
    pool.bytes = parsed.bytes;
    pool.offsets = parsed.offsets;
    pool.jumps = p.jumps.subarray(0, p.length);
    this.#pending = null;
    this.#pendingPool = -1;
  }

  /** Keeps (and traces) what extensions printed while parsing rules of this snapshot. */
  warn(texts: readonly string[]): void {
    for (const t of texts) {
      for (const line of t.split('\n')) {
        if (line.trim() === '') continue;
        this.warnings.push(line.trim());
        debug('%s %s: %s', this.family, this.table, line.trim());
      }
    }
  }

  /** Names the pending rule a parse error (with `index`) is about. */
  explainPending(e: unknown): unknown {
    const p = this.#pending;
    if (!(e instanceof IptcError) || e.index === undefined || !p) return e;
    const k = e.index;
    const o = p.origins[k];
    delete e.index;
    if (!o) return e;
    e.message = `${describeOrigin(o)}: bad rule: ${e.message}`;
    e.chain = o.chain;
    if (o.position !== undefined) e.position = o.position;
    e.rule = p.words(k).join(' ');
    return e;
  }

  // ---- one rule ------------------------------------------------------------

  isBase(ref: number): boolean {
    return poolOf(ref) === 0 && this.#pools[0]?.entryIndex !== undefined;
  }

  isPending(ref: number): boolean {
    return this.#pending !== null && poolOf(ref) === this.#pendingPool;
  }

  /** Per rule of a pool, the chain id it jumps or goes to, or -1. */
  jumpsOf(pool: number): ArrayLike<number> {
    return this.#pending !== null && pool === this.#pendingPool ? this.#pending.jumps : this.#pools[pool]!.jumps;
  }

  /** The chain id a rule jumps or goes to, or -1. */
  jumpOf(ref: number): number {
    if (this.isPending(ref)) return this.#pending!.jumps[indexOf(ref)]!;
    return this.#pools[poolOf(ref)]!.jumps[indexOf(ref)]!;
  }

  /** Counters as the snapshot shows them (zeroed ones as zero). */
  counters(ref: number): Counters {
    if (this.#zeroed.has(ref)) return { packets: 0n, bytes: 0n };
    const i = indexOf(ref);
    if (this.isPending(ref)) return this.#pending!.countersOf(i);
    const pool = this.#pools[poolOf(ref)]!;
    const at = pool.offsets[i]! + LAYOUT[this.family].counters;
    return { packets: pool.bytes.readBigUInt64LE(at), bytes: pool.bytes.readBigUInt64LE(at + 8) };
  }

  /**
   * -Z on a rule, as libiptc does it: a rule read from the kernel counts
   * from zero again; one added in this snapshot keeps the counters it was
   * given (libiptc commits those as set).
   */
  zero(ref: number): void {
    if (this.isBase(ref)) this.#zeroed.add(ref);
  }

  /** The spec printed for a rule, if it was printed already. */
  spec(ref: number): string | undefined {
    return this.#pools[poolOf(ref)]!.specs[indexOf(ref)];
  }

  /** Forgets printed specs (a renamed chain changes the text of jumps to it). */
  forgetSpecs(): void {
    for (const p of this.#pools) p.specs = [];
  }

  // ---- what crosses to the addon -------------------------------------------

  /**
   * Another store over the same rules, for a copy of a snapshot: parsed
   * pools are shared (nothing changes them), what can change is copied.
   */
  copy(): RuleStore {
    const s = new RuleStore(this.family, this.table);
    s.#pools.push(...this.#pools.map((p) => ({ ...p, specs: [...p.specs] })));
    for (const z of this.#zeroed) s.#zeroed.add(z);
    s.warnings.push(...this.warnings);
    if (this.#pending) {
      s.#pending = this.#pending.copy();
      s.#pendingPool = this.#pendingPool;
    }
    return s;
  }

  /** The pending rules for a commit to parse, or undefined. */
  pendingBatch(): NativePlan['pending'] {
    const p = this.#pending;
    if (!p || p.length === 0) return undefined;
    return { pool: this.#pendingPool, ...p.batch() };
  }

  /** The pools as the addon takes them (the pending one with its jumps only). */
  planPools(): NativePool[] {
    return this.#pools.map((p, i) =>
      this.#pending && i === this.#pendingPool ? { bytes: p.bytes, jumps: this.#pending.jumps.subarray(0, this.#pending.length) } : p.entryIndex ? { bytes: p.bytes, offsets: p.offsets, jumps: p.jumps, entryIndex: p.entryIndex } : { bytes: p.bytes, offsets: p.offsets, jumps: p.jumps },
    );
  }

  /** Rules of pool 0 whose counters were zeroed, for a plan. */
  zeroedList(): Uint32Array | undefined {
    return this.#zeroed.size ? Uint32Array.from(this.#zeroed, (r) => indexOf(r)) : undefined;
  }

  /** Remembers what the addon printed for these rules. */
  rememberSpecs(refs: readonly number[], out: NativeRules): string[] {
    const specs = out.specs.split('\0');
    refs.forEach((r, k) => (this.#pools[poolOf(r)]!.specs[indexOf(r)] = specs[k]!));
    specs.length = refs.length;
    return specs;
  }
}
