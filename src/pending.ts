/**
 * Rules given as words and not parsed yet, kept so that they cross to the
 * addon as one batch: the words UTF-8 encoded into one growing Buffer as they
 * come (each word followed by a NUL), per rule its word count, whether its
 * -j/-g names a user chain, the chain id it jumps to, its counters (only once
 * some rule has them) and where it came from (to name it in an error). Each
 * rule costs a few typed-array slots, no object.
 */
import type { Counters } from './rule.js';

/** Why a rule was given, to name it when it turns out bad. */
export interface Origin {
  /** What the caller did. */
  op: 'append' | 'insert' | 'replace';
  chain: string;
  position: number;
  /** Which change of the snapshot (1 for the first). */
  change: number;
}

/** "append to INPUT (change 3)" */
export function describeOrigin(o: Origin): string {
  const what = o.op === 'append' ? `append to ${o.chain}` : o.op === 'insert' ? `insert into ${o.chain} at ${o.position}` : `replace rule ${o.position} of ${o.chain}`;
  return `${what} (change ${o.change})`;
}

function grown<T extends Uint8Array | Uint32Array | Int32Array | BigUint64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, 2 * a.length));
  b.set(a as never);
  return b;
}

export class Pending {
  length = 0;
  bytes = Buffer.allocUnsafe(1 << 16);
  used = 0;
  /** Words not yet in `bytes`: encoded a few kilobytes at a time. */
  #text = '';
  counts = new Uint32Array(256);
  chainJumps = new Uint8Array(256);
  jumps = new Int32Array(256);
  counters: BigUint64Array | null = null;
  readonly origins: Origin[] = [];

  push(words: readonly string[], chainJump: boolean, jump: number, counters: Counters | undefined, origin: Origin): number {
    const k = this.length;
    for (let i = 0; i < words.length; i++) this.#text += `${words[i]}\0`;
    if (this.#text.length > 8192) this.#flush();
    this.counts = grown(this.counts, k + 1);
    this.chainJumps = grown(this.chainJumps, k + 1);
    this.jumps = grown(this.jumps, k + 1);
    this.counts[k] = words.length;
    this.chainJumps[k] = chainJump ? 1 : 0;
    this.jumps[k] = jump;
    if (counters && (counters.packets || counters.bytes)) {
      this.counters = grown(this.counters ?? new BigUint64Array(256), 2 * k + 2);
      this.counters[2 * k] = counters.packets;
      this.counters[2 * k + 1] = counters.bytes;
    }
    this.origins.push(origin);
    this.length = k + 1;
    return k;
  }

  #flush(): void {
    const text = this.#text;
    if (!text) return;
    const most = 3 * text.length;
    if (this.used + most > this.bytes.length) {
      const b = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + most));
      this.bytes.copy(b, 0, 0, this.used);
      this.bytes = b;
    }
    this.used += this.bytes.write(text, this.used);
    this.#text = '';
  }

  countersOf(k: number): Counters {
    const c = this.counters;
    return c && 2 * k + 1 < c.length ? { packets: c[2 * k]!, bytes: c[2 * k + 1]! } : { packets: 0n, bytes: 0n };
  }

  /** Rule k's words, for an error message. */
  words(k: number): string[] {
    this.#flush();
    let at = 0;
    for (let i = 0; i < k; i++) for (let w = 0; w < this.counts[i]!; w++) at = this.bytes.indexOf(0, at) + 1;
    const out: string[] = [];
    for (let w = 0; w < this.counts[k]!; w++) {
      const end = this.bytes.indexOf(0, at);
      out.push(this.bytes.toString('utf8', at, end));
      at = end + 1;
    }
    return out;
  }

  /** The batch as the addon takes it (views, no copies). */
  batch(): { words: Buffer; counts: Uint32Array; chainJumps: Uint8Array; counters?: BigUint64Array } {
    this.#flush();
    const n = this.length;
    const b = { words: this.bytes.subarray(0, this.used), counts: this.counts.subarray(0, n), chainJumps: this.chainJumps.subarray(0, n) };
    return this.counters ? { ...b, counters: this.counters.subarray(0, Math.min(2 * n, this.counters.length)) } : b;
  }

  copy(): Pending {
    this.#flush();
    const p = new Pending();
    p.length = this.length;
    p.bytes = Buffer.from(this.bytes.subarray(0, this.used));
    p.used = this.used;
    p.counts = this.counts.slice();
    p.chainJumps = this.chainJumps.slice();
    p.jumps = this.jumps.slice();
    p.counters = this.counters && this.counters.slice();
    p.origins.push(...this.origins);
    return p;
  }
}
