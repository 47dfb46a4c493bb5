/**
 * Sample lines written straight into bytes. A table's sample lines differ
 * from one scrape to the next only in their values, so the text before each
 * value is kept, for a whole section, as one Buffer (built when the table's
 * layout changes); a scrape copies each line's part of it and writes the
 * counter's digits after it. Values that fit 32 bits (nearly all counters)
 * are written digit by digit from the counters' own memory, with no string
 * made; larger ones go through BigInt's toString.
 * @internal
 */
import { endianness } from 'node:os';

const LITTLE = endianness() === 'LE';
/** Digits of a 64-bit counter at most, and the line feed. */
const MAX_VALUE = 21;

export class SampleLines {
  readonly #text: Buffer;
  /** Where each line's text ends in #text. */
  readonly #ends: Uint32Array;
  /** Which counter each line shows: its index in a CounterSnapshot's counters (2 * slot + 0 packets, 1 bytes). */
  readonly #cells: Uint32Array;

  /** `prefixes[i]` is line i up to its value (`name{labels} `); `cells[i]` the counter it shows. */
  constructor(prefixes: readonly string[], cells: readonly number[]) {
    this.#text = Buffer.from(prefixes.join(''), 'utf8');
    this.#ends = new Uint32Array(prefixes.length);
    let end = 0;
    prefixes.forEach((p, i) => (this.#ends[i] = end += Buffer.byteLength(p, 'utf8')));
    this.#cells = Uint32Array.from(cells);
  }

  get length(): number {
    return this.#cells.length;
  }

  /** The most bytes write() can take. */
  get maxBytes(): number {
    return this.#text.length + this.#cells.length * MAX_VALUE;
  }

  /** Writes every line into `out` at `pos`, the values from `counters`; returns the position after them. */
  write(out: Buffer, pos: number, counters: BigUint64Array): number {
    const text = this.#text;
    const ends = this.#ends;
    const cells = this.#cells;
    const words = LITTLE ? new Uint32Array(counters.buffer, counters.byteOffset, counters.length * 2) : undefined;
    let start = 0;
    for (let i = 0; i < cells.length; i++) {
      const end = ends[i]!;
      pos += text.copy(out, pos, start, end);
      start = end;
      const cell = cells[i]!;
      if (words && words[2 * cell + 1] === 0) pos = writeUint32(out, pos, words[2 * cell]!);
      else pos += out.write(counters[cell]!.toString(), pos, 'latin1');
      out[pos++] = 10;
    }
    return pos;
  }
}

function writeUint32(out: Buffer, pos: number, v: number): number {
  if (v < 10) {
    out[pos] = 48 + v;
    return pos + 1;
  }
  let len = 1;
  for (let t = v; t >= 10; t = (t / 10) >>> 0) len++;
  let p = pos + len;
  do {
    out[--p] = 48 + (v % 10);
    v = (v / 10) >>> 0;
  } while (v > 0);
  return pos + len;
}
