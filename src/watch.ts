/**
 * watch(): the changes made to a table, as they are seen. The kernel tells
 * nobody when a legacy table changes, so watch polls: each poll is one
 * CounterReader read, which notices any change to rules, chains or policies
 * (a new layout version) without decoding anything; only then is the table
 * read in full and compared with the last full read (diff.ts). Changes made
 * between two polls come out together, as the commands that turn the one
 * table into the other (a rule added and deleted again in between is not
 * seen).
 */
import { CounterReader } from './counters.js';
import { diffSync, type ChainChanges, type TableDiff } from './diff.js';
import type { Policy } from './snapshot.js';
import { formatRule } from './parse.js';
import { argumentError, checkSignal, show, type IptcError } from './errors.js';
import type { FamilyName } from './native.js';
import type { TableName } from './names.js';
import type { NetnsOption } from './netns.js';
import { Table } from './table.js';
import type { AbortSignalLike } from './table-options.js';
import type { BackendChoice } from './which.js';
import { checkOptionsObject } from './words.js';

export interface WatchOptions {
  family?: FamilyName;
  netns?: NetnsOption;
  backend?: BackendChoice;
  /** Milliseconds between polls (default 1000, at least 1). */
  interval?: number;
  /** Ends the iteration (without an error) when it fires. */
  signal?: AbortSignalLike;
}

/**
 * What every TableChange has, whatever its type.
 * @example
 * ```ts
 * import { watch, type TableChangeBase } from 'iptc-node';
 * const show = (c: TableChangeBase) => `${c.family} ${c.table} ${c.chain}: ${c.commands.join(' ; ')}`;
 * for await (const c of watch('filter')) console.log(show(c));
 * ```
 */
export interface TableChangeBase {
  table: TableName;
  family: FamilyName;
  /** The chain changed (for a rename, its new name). */
  chain: string;
  /** iptables arguments that make the change (without `-t TABLE`), in order: e.g. `-A INPUT -p tcp -j ACCEPT`. */
  commands: string[];
}

/** One change to a table. A move is a deletion and an insertion at the new place. */
export type TableChange =
  | (TableChangeBase & { type: 'chain-added' | 'chain-removed' })
  | (TableChangeBase & { type: 'chain-renamed'; from: string })
  | (TableChangeBase & { type: 'policy'; from: Policy; to: Policy })
  /** position: where the rule is now (added), or was (removed). rule: its spec as iptables-save prints it after `-A CHAIN`. */
  | (TableChangeBase & { type: 'rule-added' | 'rule-removed'; rule: string; position: number })
  | (TableChangeBase & { type: 'rule-moved'; rule: string; from: number; to: number });

const spec = (chain: string, rule: string) => `${chain}${rule ? ` ${rule}` : ''}`;

/**
 * The changes from snapshot `a` to snapshot `b` of one table, in an order
 * whose commands, run one after the other on `a`, give `b`: new chains,
 * renames, then per chain the deletions and then the insertions from the
 * top down, then policies, then removed chains.
 * @example
 * ```ts
 * import { Table, tableChanges } from 'iptc-node';
 * const before = await Table.open('filter');
 * // ... something changes the table ...
 * const after = await Table.open('filter');
 * for (const c of tableChanges(before, after)) console.log(c.commands.join('\n'));
 * ```
 */
export function tableChanges(a: Table, b: Table): TableChange[] {
  return changesOf(diffSync(a, b), b);
}

function changesOf(d: TableDiff, b: Table): TableChange[] {
  const base = { table: d.table, family: d.family };
  const out: TableChange[] = [];
  for (const chain of d.chainsAdded) out.push({ ...base, type: 'chain-added', chain, commands: [`-N ${chain}`] });
  for (const r of d.chainsRenamed) out.push({ ...base, type: 'chain-renamed', chain: r.to, from: r.from, commands: [`-E ${r.from} ${r.to}`] });
  const removedChains = new Set(d.chainsRemoved);
  for (const c of d.rules) out.push(...chainChanges(c, removedChains.has(c.chain) ? [] : b.rules(c.chain).map((r) => formatRule(r)), base));
  for (const p of d.policies) out.push({ ...base, type: 'policy', chain: p.chain, from: p.from, to: p.to, commands: [`-P ${p.chain} ${p.to}`] });
  for (const chain of d.chainsRemoved) out.push({ ...base, type: 'chain-removed', chain, commands: [`-X ${chain}`] });
  return out;
}

interface Item {
  text: string;
}

/**
 * One chain's rule changes as commands, worked out on a model of the chain
 * as it is before each command: deletions bottom up, then insertions top
 * down, each placed right after the rule that precedes it in the new chain
 * (a moved rule is deleted just before it is inserted again). A rule whose
 * text the chain holds twice is deleted by number, since -D by spec takes
 * the first one.
 */
function chainChanges(c: ChainChanges, after: string[], base: { table: TableName; family: FamilyName }): TableChange[] {
  const out: TableChange[] = [];
  const chain = c.chain;
  // The chain before: removed and moved rules at their old places, the kept ones (in the new chain's order) in the gaps.
  const oldLen = after.length - c.added.length + c.removed.length;
  const cur: (Item | undefined)[] = new Array<Item | undefined>(oldLen);
  for (const r of c.removed) cur[r.position - 1] = { text: r.rule };
  const moved = new Map<number, Item>(); // new position -> item
  for (const m of c.moved) moved.set(m.to, (cur[m.from - 1] = { text: m.rule }));
  const added = new Set(c.added.map((r) => r.position));
  const final: Item[] = after.map((text, j) => moved.get(j + 1) ?? (added.has(j + 1) ? { text } : (undefined as unknown as Item)));
  let k = 0;
  for (let j = 0; j < final.length; j++) {
    if (final[j]) continue;
    while (cur[k]) k++;
    final[j] = cur[k] = { text: after[j]! };
  }
  const list = cur as Item[];
  const count = new Map<string, number>();
  for (const it of list) count.set(it.text, (count.get(it.text) ?? 0) + 1);
  // Without moves, positions are known without the model: deletions bottom up keep
  // the ones above in place, and after them insertions top down land where they stay.
  const model = c.moved.length > 0;
  let length = list.length;
  const del = (i: number): string => {
    const it = list[i]!;
    const n = count.get(it.text)!;
    count.set(it.text, n - 1);
    if (model) list.splice(i, 1);
    length--;
    return n > 1 ? `-D ${chain} ${i + 1}` : `-D ${spec(chain, it.text)}`;
  };
  const removed = [...c.removed].sort((x, y) => y.position - x.position);
  for (const r of removed) out.push({ ...base, type: 'rule-removed', chain, rule: r.rule, position: r.position, commands: [del(r.position - 1)] });
  const placed = [...c.added.map((r) => r.position), ...c.moved.map((m) => m.to)].sort((x, y) => x - y);
  for (const to of placed) {
    const it = final[to - 1]!;
    const m = moved.get(to);
    const commands = m ? [del(list.indexOf(m))] : [];
    const at = !model || to === 1 ? to - 1 : list.indexOf(final[to - 2]!) + 1;
    if (model) list.splice(at, 0, it);
    length++;
    count.set(it.text, (count.get(it.text) ?? 0) + 1);
    commands.push(at === length - 1 ? `-A ${spec(chain, it.text)}` : `-I ${chain} ${at + 1}${it.text ? ` ${it.text}` : ''}`);
    if (m) out.push({ ...base, type: 'rule-moved', chain, rule: it.text, from: c.moved.find((x) => x.to === to)!.from, to, commands });
    else out.push({ ...base, type: 'rule-added', chain, rule: it.text, position: to, commands });
  }
  return out;
}

/**
 * The changes to one table, as they are seen, polled every `interval` ms:
 * an async iterator that ends when `signal` fires (or the loop breaks).
 * Polls that find nothing changed cost one raw counter read each. The
 * table as it is when watch starts is the baseline: nothing is yielded for it.
 * @example
 * ```ts
 * import { watch } from 'iptc-node';
 * const ac = new AbortController();
 * for await (const change of watch('filter', { interval: 500, signal: ac.signal })) {
 *   console.log(change.type, change.commands.join(' ; '));
 * }
 * ```
 */
export async function* watch(table: TableName, options: WatchOptions = {}): AsyncGenerator<TableChange, void, undefined> {
  checkOptionsObject(options, 'options', ['family', 'netns', 'backend', 'interval', 'signal']);
  const interval = options.interval ?? 1000;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 1) throw argumentError(`interval must be a number of milliseconds of at least 1, got ${show(interval)}`);
  const signal = options.signal;
  try {
    checkSignal(signal, 'watch');
  } catch (e) {
    // Fired already: nothing to watch (a signal that is not one is still an error).
    if ((e as IptcError).code === 'ABORT_ERR') return;
    throw e;
  }
  const reader = new CounterReader(table, { family: options.family, netns: options.netns, backend: options.backend });
  const where = { family: reader.family, netns: options.netns, backend: reader.backend };
  try {
    // The version is read before the table: a change after that read shows at the next poll.
    let version = (await reader.read()).layout.version;
    let last = await Table.open(table, where);
    while (!signal?.aborted) {
      await sleep(interval, signal);
      if (signal?.aborted) break;
      const now = (await reader.read()).layout.version;
      if (now === version) continue;
      version = now;
      const next = await Table.open(table, where);
      const changes = tableChanges(last, next);
      last = next;
      for (const c of changes) yield c;
    }
  } finally {
    reader.close();
  }
}

function sleep(ms: number, signal: AbortSignalLike | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
