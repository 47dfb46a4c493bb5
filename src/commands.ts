/**
 * iptables command lines (`-A INPUT -p tcp --dport 22 -j ACCEPT`, `-N FOO`,
 * `-P FORWARD DROP`, ...) applied to a Table snapshot: what iptables-restore
 * does with each rule line, and what `iptables` itself does with its words.
 */
import { argumentError, IptcError, show } from './errors.js';
import type { Counters } from './rule.js';
import type { Table } from './table.js';
import { checkWordList, splitWords } from './words.js';

const COMMANDS: Record<string, string> = {
  '-A': 'append', '--append': 'append',
  '-I': 'insert', '--insert': 'insert',
  '-D': 'delete', '--delete': 'delete',
  '-R': 'replace', '--replace': 'replace',
  '-C': 'check', '--check': 'check',
  '-N': 'new', '--new-chain': 'new', '--new': 'new',
  '-X': 'delete-chain', '--delete-chain': 'delete-chain',
  '-F': 'flush', '--flush': 'flush',
  '-Z': 'zero', '--zero': 'zero',
  '-P': 'policy', '--policy': 'policy',
  '-E': 'rename', '--rename-chain': 'rename',
};

const isNumber = (w: string | undefined): w is string => w !== undefined && /^[0-9]+$/.test(w);

function position(w: string, what: string): number {
  const n = Number(w);
  if (!Number.isSafeInteger(n) || n < 1) throw argumentError(`invalid rule number '${w}' for ${what}`);
  return n;
}

/**
 * Applies one command to the snapshot. `words` is the whole command, e.g.
 * ['-A', 'INPUT', '-j', 'ACCEPT']. Returns the result of -C (true when the
 * rule exists), otherwise undefined. `counters` are a rule's `[p:b]` (restore -c).
 * @example
 * ```ts
 * import { Table, applyCommand } from 'iptc-node';
 * await Table.update('filter', {}, (t) => applyCommand(t, '-I INPUT 2 -p udp --dport 53 -j ACCEPT'));
 * ```
 */
export function applyCommand(table: Table, input: string | string[], counters?: Counters): boolean | undefined {
  if (typeof input !== 'string' && !Array.isArray(input)) throw argumentError(`a command must be a string or a list of words, got ${input === null ? 'null' : typeof input}`);
  const words = typeof input === 'string' ? splitWords(input) : checkWordList(input);
  const cmd = COMMANDS[words[0] ?? ''];
  if (!cmd) {
    if (words.includes('-t') || words.includes('--table')) {
      throw argumentError('-t/--table cannot be given here: the table is chosen by the snapshot (or the restore block)');
    }
    throw new IptcError(`no command specified (expected one of -A -I -D -R -C -N -X -F -Z -P -E first, got ${show(words[0] ?? '')})`, {
      code: 'ERR_IPTC_PARSE',
    });
  }
  const chain = words[1];
  const rest = words.slice(2);
  const needChain = () => {
    if (chain === undefined) throw new IptcError(`${words[0]} needs a chain name`, { code: 'ERR_IPTC_PARSE' });
    return chain;
  };
  // restore -c puts a rule's [p:b] in front of it; iptables spells that -c P B.
  const rule = (w: string[]) => (counters ? ['-c', String(counters.packets), String(counters.bytes), ...w] : w);
  switch (cmd) {
    case 'append':
      table.append(needChain(), rule(rest));
      return undefined;
    case 'insert': {
      if (isNumber(rest[0])) table.insert(needChain(), rule(rest.slice(1)), position(rest[0], '-I'));
      else table.insert(needChain(), rule(rest));
      return undefined;
    }
    case 'replace':
      if (!isNumber(rest[0])) throw new IptcError('-R needs a rule number', { code: 'ERR_IPTC_PARSE' });
      table.replace(needChain(), position(rest[0], '-R'), rule(rest.slice(1)));
      return undefined;
    case 'delete':
      if (isNumber(rest[0]) && rest.length === 1) table.delete(needChain(), position(rest[0], '-D'));
      else table.delete(needChain(), rule(rest));
      return undefined;
    case 'check':
      return table.check(needChain(), rule(rest));
    case 'new':
      noMore(rest, words[0]!);
      table.createChain(needChain());
      return undefined;
    case 'delete-chain':
      noMore(rest, words[0]!);
      table.deleteChain(chain);
      return undefined;
    case 'flush':
      noMore(rest, words[0]!);
      table.flush(chain);
      return undefined;
    case 'zero':
      if (rest.length > 1 || (rest.length === 1 && !isNumber(rest[0]))) throw new IptcError('-Z takes a chain and a rule number at most', { code: 'ERR_IPTC_PARSE' });
      table.zero(chain, rest[0] === undefined ? undefined : position(rest[0], '-Z'));
      return undefined;
    case 'policy': {
      // -P CHAIN TARGET, with counters as iptables takes them: -c P B, --set-counters P B, or -c P,B (or restore's [p:b]).
      const target = rest[0];
      const words = policyCounters(rest.slice(1));
      const given = words === undefined ? counters : words;
      if (target === undefined || given === null) throw new IptcError('-P needs a chain and a target (ACCEPT or DROP), and at most its counters (-c PACKETS BYTES)', { code: 'ERR_IPTC_PARSE' });
      // iptables-nft 1.8.9 takes -P's counters and drops them: so does a command on nf_tables.
      table.setPolicy(needChain(), target as 'ACCEPT' | 'DROP', table.backend === 'nft' ? undefined : given);
      return undefined;
    }
    case 'rename':
      if (rest.length !== 1) throw new IptcError('-E needs the old and the new chain name', { code: 'ERR_IPTC_PARSE' });
      table.renameChain(needChain(), rest[0]!);
      return undefined;
  }
  return undefined;
}

/** The counters after -P CHAIN TARGET: undefined when none are given, null when the words are not counters. */
function policyCounters(words: string[]): Counters | undefined | null {
  if (words.length === 0) return undefined;
  const num = (w: string | undefined) => (w !== undefined && /^[0-9]+$/.test(w) && BigInt(w) < 2n ** 64n ? BigInt(w) : null);
  if (words[0] !== '-c' && words[0] !== '--set-counters') return null;
  const [p, b] = words.length === 2 && words[1]!.includes(',') ? words[1]!.split(',', 2) : [words[1], words[2]];
  const packets = num(p);
  const bytes = num(b);
  if (packets === null || bytes === null || words.length > (words[1]?.includes(',') ? 2 : 3)) return null;
  return { packets, bytes };
}

function noMore(rest: string[], cmd: string): void {
  if (rest.length > 0) throw new IptcError(`unexpected arguments after ${cmd}: ${rest.join(' ')}`, { code: 'ERR_IPTC_PARSE' });
}
