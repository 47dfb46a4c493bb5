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
  let cur = '';
  let open = false;
  let escaped = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (open) {
      if (escaped) {
        cur += ch;
        escaped = false;
        continue;
      }
      if (ch === '\\') {
        escaped = true;
        continue;
      }
      if (ch !== '"') {
        cur += ch;
        continue;
      }
      open = false; // a closing quote ends the word
    } else if (ch === '"') {
      open = true;
      quoted = true;
      continue;
    }
    if (ch === '"' || ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (ch !== '"' && cur.length === 0 && !quoted) continue;
      words.push(check ? checkWord(cur) : cur);
      cur = '';
      quoted = false;
      continue;
    }
    cur += ch;
  }
  // An unterminated quote runs to the end, as in iptables-restore.
  if (cur.length > 0 || quoted) words.push(check ? checkWord(cur) : cur);
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
