/**
 * Where a snapshot's rules are. A rule is a number, a reference into a pool
 * of kernel entries: pool 0 is the table as read (the kernel's own bytes,
 * never copied or printed until asked), later pools hold rules parsed since.
 * Rules given as words are kept unparsed in the pending pool until something
 * needs their bytes (a commit parses them off the event loop; reading them
 * back parses them here), then the pool turns into an ordinary one with the
 * same numbers. Nothing here knows chains or commands: see snapshot.ts.
 */
import { IptcError } from './errors.js';
import { native, type FamilyName, type NativeParsed, type NativeRules } from './native.js';
import type { Counters } from './rule.js';

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

/** Why a rule was given, to name it when it turns out bad. */
export interface Origin {
  /** What the caller did: "append to INPUT", "line 12", ... */
  what: string;
  chain: string;
  position?: number;
}

interface Pool {
  bytes: Buffer;
  offsets: ArrayLike<number>;
  /** Per rule: the chain id it jumps or goes to, or -1. */
  jumps: ArrayLike<number>;
  /** The table as read: each rule's index among the kernel's entries (its counters' slot). */
  entryIndex?: Uint32Array;
  /** Printed specs, filled as rules are printed. */
  specs: (string | undefined)[];
}

/** Rules given as words, not parsed yet. */
class Pending {
  words: string[] = [];
  counts: number[] = [];
  chainJumps: number[] = [];
  counters: bigint[] = [];
  jumps: number[] = [];
  origins: Origin[] = [];
  get length(): number {
    return this.counts.length;
  }
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
      this.#pools.push({ bytes: Buffer.alloc(0), offsets: [], jumps: this.#pending.jumps, specs: [] });
    }
    const p = this.#pending;
    p.words.push(words.join('\0'));
    p.counts.push(words.length);
    p.chainJumps.push(chainJump ? 1 : 0);
    p.counters.push(counters?.packets ?? 0n, counters?.bytes ?? 0n);
    p.jumps.push(jump);
    p.origins.push(origin);
    return refOf(this.#pendingPool, p.length - 1);
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
    return { refs: Array.from({ length: n }, (_, i) => refOf(pool, i)), warnings: parsed.warnings[0] ?? '' };
  }

  /**
   * Takes entries parsed elsewhere (a restore's): `count` entries of `bytes`
   * from `first`, each jumping to chain `jump` (or -1), with `counters` set.
   * The Buffer becomes one pool, however many times it is used.
   */
  adopt(bytes: Buffer, offsets: Uint32Array, first: number, count: number, jump: number, counters: Counters | undefined): number[] {
    let pool = this.#adopted.get(bytes);
    if (pool === undefined) {
      pool = this.#pools.length;
      this.#pools.push({ bytes, offsets, jumps: new Int32Array(offsets.length).fill(-1), specs: [] });
      this.#adopted.set(bytes, pool);
    }
    const p = this.#pools[pool]!;
    const jumps = p.jumps as Int32Array;
    const L = LAYOUT[this.family];
    const refs: number[] = [];
    for (let i = first; i < first + count; i++) {
      jumps[i] = jump;
      if (counters) {
        bytes.writeBigUInt64LE(counters.packets, offsets[i]! + L.counters);
        bytes.writeBigUInt64LE(counters.bytes, offsets[i]! + L.counters + 8);
      }
      refs.push(refOf(pool, i));
    }
    return refs;
  }

  /**
   * Parses every pending rule now, on this thread. On a bad rule throws an
   * IptcError naming it and leaves everything pending.
   */
  parsePending(): void {
    const p = this.#pending;
    if (!p || p.length === 0) return;
    let parsed: NativeParsed;
    try {
      parsed = native.parseRules(this.family, this.table, p.words.join('\0'), Uint32Array.from(p.counts), Uint8Array.from(p.chainJumps));
    } catch (e) {
      throw this.explainPending(e);
    }
    const L = LAYOUT[this.family];
    for (let i = 0; i < p.length; i++) {
      const pk = p.counters[2 * i]!;
      const bk = p.counters[2 * i + 1]!;
      if (pk || bk) {
        parsed.bytes.writeBigUInt64LE(pk, parsed.offsets[i]! + L.counters);
        parsed.bytes.writeBigUInt64LE(bk, parsed.offsets[i]! + L.counters + 8);
      }
    }
    const pool = this.#pools[this.#pendingPool]!;
    pool.bytes = parsed.bytes;
    pool.offsets = parsed.offsets;
    pool.jumps = Int32Array.from(p.jumps);
    this.#pending = null;
    this.#pendingPool = -1;
  }

  /** Names the pending rule a parse error (with `index`) is about. */
  explainPending(e: unknown): unknown {
    const p = this.#pending;
    if (!(e instanceof IptcError) || e.index === undefined || !p) return e;
    const k = e.index;
    const o = p.origins[k];
    delete e.index;
    if (!o) return e;
    const rule = p.words[k]?.split('\0').join(' ');
    e.message = `${o.what}: bad rule: ${e.message}`;
    e.chain = o.chain;
    if (o.position !== undefined) e.position = o.position;
    if (rule !== undefined) e.rule = rule;
    return e;
  }

  // ---- one rule ------------------------------------------------------------

  isBase(ref: number): boolean {
    return poolOf(ref) === 0 && this.#pools[0]?.entryIndex !== undefined;
  }

  isPending(ref: number): boolean {
    return this.#pending !== null && poolOf(ref) === this.#pendingPool;
  }

  /** The chain id a rule jumps or goes to, or -1. */
  jumpOf(ref: number): number {
    return this.#pools[poolOf(ref)]!.jumps[indexOf(ref)]!;
  }

  /** Counters as the snapshot shows them (zeroed ones as zero). */
  counters(ref: number): Counters {
    if (this.#zeroed.has(ref)) return { packets: 0n, bytes: 0n };
    const i = indexOf(ref);
    if (this.isPending(ref)) return { packets: this.#pending!.counters[2 * i]!, bytes: this.#pending!.counters[2 * i + 1]! };
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
  fork(): RuleStore {
    const s = new RuleStore(this.family, this.table);
    s.#pools.push(...this.#pools.map((p) => ({ ...p, specs: [...p.specs] })));
    for (const z of this.#zeroed) s.#zeroed.add(z);
    const p = this.#pending;
    if (p) {
      const q = new Pending();
      q.words = [...p.words];
      q.counts = [...p.counts];
      q.chainJumps = [...p.chainJumps];
      q.counters = [...p.counters];
      q.jumps = [...p.jumps];
      q.origins = [...p.origins];
      s.#pending = q;
      s.#pendingPool = this.#pendingPool;
      s.#pools[this.#pendingPool]!.jumps = q.jumps;
    }
    return s;
  }

  /** The pools as the addon takes them (pending ones as empty Buffers). */
  poolBuffers(): Buffer[] {
    return this.#pools.map((p) => p.bytes);
  }

  /** The pending rules for a commit to parse, or undefined. */
  pendingBatch(): { pool: number; words: string; counts: Uint32Array; chainJumps: Uint8Array; counters: BigUint64Array } | undefined {
    const p = this.#pending;
    if (!p || p.length === 0) return undefined;
    return {
      pool: this.#pendingPool,
      words: p.words.join('\0'),
      counts: Uint32Array.from(p.counts),
      chainJumps: Uint8Array.from(p.chainJumps),
      counters: BigUint64Array.from(p.counters),
    };
  }

  /**
   * Writes one rule into a plan's arrays at `k`: pool, offset (or pending
   * index), counter mode, old entry index; and its jump (as a chain index).
   */
  writeRule(ref: number, k: number, rules: Uint32Array, jumps: Int32Array, chainIndex: (id: number) => number): void {
    const pool = poolOf(ref);
    const i = indexOf(ref);
    const p = this.#pools[pool]!;
    rules[4 * k] = pool;
    if (this.isPending(ref)) {
      rules[4 * k + 1] = i;
      rules[4 * k + 2] = CounterMode.Set;
    } else {
      rules[4 * k + 1] = p.offsets[i]!;
      if (p.entryIndex) {
        rules[4 * k + 2] = this.#zeroed.has(ref) ? CounterMode.SinceRead : CounterMode.Kept;
        rules[4 * k + 3] = p.entryIndex[i]!;
      } else rules[4 * k + 2] = CounterMode.Set;
    }
    const j = p.jumps[i]!;
    jumps[k] = j < 0 ? -1 : chainIndex(j);
  }

  /** Remembers what the addon printed for these rules. */
  rememberSpecs(refs: readonly number[], out: NativeRules): string[] {
    const specs = out.specs.split('\0');
    refs.forEach((r, k) => (this.#pools[poolOf(r)]!.specs[indexOf(r)] = specs[k]!));
    specs.length = refs.length;
    return specs;
  }
}
