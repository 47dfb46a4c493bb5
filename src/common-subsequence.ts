/**
 * A longest common subsequence of two sequences of ids: which rules of a
 * chain a diff or plan keeps (diff.ts, keptRules).
 * @internal
 */

/**
 * Marks a longest common subsequence of two sequences of ids. Myers'
 * O((N+M)·D) algorithm in linear space (the bisection of Neil Fraser's
 * diff-match-patch), so chains of many thousand rules with few changes stay
 * cheap. Where the two differ so much that this turns quadratic (a chain
 * shuffled or rewritten), the part falls back to patience diff's anchors: a
 * common subsequence that may be shorter. Either way the result is a common
 * subsequence, so a plan stays correct; it is only longer.
 * @internal
 */
export function commonSubsequence(a: readonly number[], b: readonly number[]): { keepA: Uint8Array; keepB: Uint8Array } {
  // Ids on one side only can never be kept: leave them out of the search.
  const inA = new Set(a);
  const inB = new Set(b);
  const ia = a.flatMap((x, i) => (inB.has(x) ? [i] : []));
  const ib = b.flatMap((x, j) => (inA.has(x) ? [j] : []));
  const fa = ia.map((i) => a[i]!);
  const fb = ib.map((j) => b[j]!);
  const keepA = new Uint8Array(a.length);
  const keepB = new Uint8Array(b.length);
  const keep = (i: number, j: number) => (keepA[ia[i]!] = keepB[ib[j]!] = 1);
  const walk = (aLo: number, aHi: number, bLo: number, bHi: number): void => {
    while (aLo < aHi && bLo < bHi && fa[aLo] === fb[bLo]) keep(aLo++, bLo++);
    while (aLo < aHi && bLo < bHi && fa[aHi - 1] === fb[bHi - 1]) keep(--aHi, --bHi);
    if (aLo === aHi || bLo === bHi) return;
    const split = bisect(fa, aLo, aHi, fb, bLo, bHi);
    if (split === undefined) return; // no path crosses the middle: nothing in common here
    if (split !== 'too far') {
      walk(aLo, split[0], bLo, split[1]);
      walk(split[0], aHi, split[1], bHi);
      return;
    }
    const anchors = uniqueAnchors(fa, aLo, aHi, fb, bLo, bHi);
    if (!anchors.length) return; // keep nothing here: correct, if not shortest
    for (const [i, j] of anchors) {
      walk(aLo, i, bLo, j);
      keep(i, j);
      [aLo, bLo] = [i + 1, j + 1];
    }
    walk(aLo, aHi, bLo, bHi);
  };
  walk(0, fa.length, 0, fb.length);
  return { keepA, keepB };
}

/** Beyond this many edits in one part, bisect() gives up rather than go quadratic. */
const MAX_EDITS = 1000;

/**
 * Patience diff's anchors: the ids found exactly once on each side, the
 * longest run of them in the same order on both (a longest increasing
 * subsequence, by patience sorting).
 */
function uniqueAnchors(a: readonly number[], aLo: number, aHi: number, b: readonly number[], bLo: number, bHi: number): [number, number][] {
  const count = (s: readonly number[], lo: number, hi: number) => {
    const m = new Map<number, number>();
    for (let i = lo; i < hi; i++) m.set(s[i]!, m.has(s[i]!) ? -1 : i);
    return m; // id -> its index, or -1 when it occurs more than once
  };
  const inA = count(a, aLo, aHi);
  const inB = count(b, bLo, bHi);
  const pairs: [number, number][] = [];
  for (let i = aLo; i < aHi; i++) {
    const j = inB.get(a[i]!);
    if (inA.get(a[i]!) === i && j !== undefined && j >= 0) pairs.push([i, j]);
  }
  const tops: number[] = []; // tops[k]: index into pairs of the smallest j ending a run of k+1
  const back = new Int32Array(pairs.length);
  pairs.forEach(([, j], p) => {
    let lo = 0;
    let hi = tops.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tops[mid]!]![1] < j) lo = mid + 1;
      else hi = mid;
    }
    back[p] = lo > 0 ? tops[lo - 1]! : -1;
    tops[lo] = p;
  });
  const run: [number, number][] = [];
  for (let p = tops.length ? tops[tops.length - 1]! : -1; p >= 0; p = back[p]!) run.push(pairs[p]!);
  return run.reverse();
}

/** A point on a shortest edit path through the middle of a[aLo..aHi) × b[bLo..bHi), both non-empty. */
function bisect(
  a: readonly number[],
  aLo: number,
  aHi: number,
  b: readonly number[],
  bLo: number,
  bHi: number,
): [number, number] | 'too far' | undefined {
  const n = aHi - aLo;
  const m = bHi - bLo;
  const maxD = Math.ceil((n + m) / 2);
  const off = maxD;
  const len = 2 * maxD + 2;
  const v1 = new Int32Array(len).fill(-1);
  const v2 = new Int32Array(len).fill(-1);
  v1[off + 1] = 0;
  v2[off + 1] = 0;
  const delta = n - m;
  const front = delta % 2 !== 0; // paths overlap on the forward walk when delta is odd
  // Diagonals that ran off the grid are skipped from then on.
  let k1start = 0, k1end = 0, k2start = 0, k2end = 0;
  for (let d = 0; d < maxD; d++) {
    if (d > MAX_EDITS) return 'too far';
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const i = off + k1;
      let x1 = k1 === -d || (k1 !== d && v1[i - 1]! < v1[i + 1]!) ? v1[i + 1]! : v1[i - 1]! + 1;
      let y1 = x1 - k1;
      while (x1 < n && y1 < m && a[aLo + x1] === b[bLo + y1]) x1++, y1++;
      v1[i] = x1;
      if (x1 > n) k1end += 2;
      else if (y1 > m) k1start += 2;
      else if (front) {
        const j = off + delta - k1;
        if (j >= 0 && j < len && v2[j] !== -1 && x1 >= n - v2[j]!) return [aLo + x1, bLo + y1];
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const j = off + k2;
      let x2 = k2 === -d || (k2 !== d && v2[j - 1]! < v2[j + 1]!) ? v2[j + 1]! : v2[j - 1]! + 1;
      let y2 = x2 - k2;
      while (x2 < n && y2 < m && a[aHi - 1 - x2] === b[bHi - 1 - y2]) x2++, y2++;
      v2[j] = x2;
      if (x2 > n) k2end += 2;
      else if (y2 > m) k2start += 2;
      else if (!front) {
        const i = off + delta - k2;
        if (i >= 0 && i < len && v1[i] !== -1) {
          const x1 = v1[i]!;
          const y1 = x1 - (i - off);
          if (x1 >= n - x2) return [aLo + x1, bLo + y1];
        }
      }
    }
  }
  return undefined;
}

// ---- text ----------------------------------------------------------------
