/**
 * Splitting a rule into words, and joining words back, the way
 * iptables-restore does: whitespace separates, double quotes group, and
 * inside quotes a backslash escapes the next character. (iptables-restore
 * splits the line with its newline: a quote left open keeps it.)
 */
import { IptcError } from './errors.js';

/** iptables-restore refuses longer words ("Parameter too long!"). */
export const MAX_WORD = 1023;
/**
 * More words than this cannot fit one kernel rule (entries are at most 64 KiB
 * and every match takes at least 32 bytes); refusing them early keeps
 * libxtables' per-match option merging from running for minutes.
 */
export const MAX_WORDS = 8192;

/** `check` false: no limits (for text the kernel printed, which may hold longer words). */
export function splitWords(text: string, check = true): string[] {
  const words: string[] = [];
  // A word is gathered as slices of the text, joined once: linear however long it is.
  let parts: string[] = [];
  let len = 0;
  let quoted = false;
  let i = 0;
  const take = (from: number, to: number) => {
    if (to <= from) return;
    parts.push(text.slice(from, to));
    len += to - from;
    if (check && len > MAX_WORD) checkWord(parts.join(''));
  };
  const end = () => {
    words.push(check ? checkWord(parts.join('')) : parts.join(''));
    parts = [];
    len = 0;
    quoted = false;
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      // Inside quotes a backslash escapes the next character; the closing quote ends the word.
      quoted = true;
      let j = i + 1;
      let from = j;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\') {
          take(from, j);
          from = j + 1;
          j++; // the escaped character is taken with the next slice
        }
      }
      take(from, Math.min(j, text.length));
      // An unterminated quote runs to the end, as in iptables-restore.
      end();
      i = j + 1;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (len > 0 || quoted) end();
      i++;
      continue;
    }
    let j = i + 1;
    while (j < text.length && !' \t\n"'.includes(text[j]!)) j++;
    take(i, j);
    i = j;
  }
  if (len > 0 || quoted) end();
  return check ? checkCount(words) : words;
}

export function checkCount<T>(words: T[]): T[] {
  if (words.length > MAX_WORDS) {
    throw new IptcError(`rule has ${words.length} words; no kernel rule can hold that many (at most ${MAX_WORDS} words)`, {
      code: 'ERR_IPTC_PARSE',
    });
  }
  return words;
}

function checkWord(w: string): string {
  if (w.length > MAX_WORD) {
    throw new IptcError(`parameter too long (${w.length} characters, at most ${MAX_WORD}): ${w.slice(0, 40)}...`, {
      code: 'ERR_IPTC_PARSE',
    });
  }
  if (w.includes('\0')) throw new IptcError('NUL byte in rule text', { code: 'ERR_IPTC_PARSE' });
  return w;
}

/** Quotes a word when iptables-restore would otherwise split or mangle it. */
export function quoteWord(w: string): string {
  if (w !== '' && !/[\s"\\]/.test(w)) return w;
  return `"${w.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function joinWords(words: readonly string[]): string {
  return words.map(quoteWord).join(' ');
}

/** Checks a caller's list of rule words: strings, no NUL bytes, not too long, not too many. */
export function checkWordList(words: readonly unknown[]): string[] {
  checkCount(words as unknown[]);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (typeof w !== 'string') {
      throw new IptcError(`rule word ${i + 1} must be a string, got ${w === null ? 'null' : typeof w}`, { code: 'ERR_IPTC_ARGUMENT' });
    }
    if (w.includes('\0')) throw new IptcError(`NUL byte in rule word ${i + 1}`, { code: 'ERR_IPTC_PARSE' });
    if (w.length > MAX_WORD) throw new IptcError(`rule word ${i + 1} is too long (${w.length} characters, at most ${MAX_WORD})`, { code: 'ERR_IPTC_PARSE' });
  }
  return words as string[];
}

/** Options must be a plain object (or absent): anything else is a mistake, never "the defaults". */
export function checkOptionsObject(options: unknown, what: string, known?: readonly string[]): void {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new IptcError(`${what} must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`, {
      code: 'ERR_IPTC_ARGUMENT',
    });
  }
  // A misspelt option (lockTimout) would otherwise be a default taken silently.
  if (options && known) {
    for (const k of Object.keys(options)) {
      if (!known.includes(k)) throw new IptcError(`unknown ${what.replace(/s$/, '')} '${k}' (expected ${known.join(', ')})`, { code: 'ERR_IPTC_ARGUMENT' });
    }
  }
}
