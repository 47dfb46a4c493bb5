/**
 * The labels of one table's metrics and the sample lines written from
 * them: made from one full read of the table whenever CounterReader reports
 * a new layout (the table's rules changed), kept until the next.
 * @internal
 */
import type { CounterLayout, CounterReader, CounterSnapshot } from './counters.js';
import { IptcError } from './errors.js';
import { labelText } from './exposition.js';
import { SampleLines } from './metrics-text.js';
import type { FamilyName } from './native.js';
import type { TableName } from './names.js';
import type { DecodedRule } from './rule.js';
import type { Table } from './table.js';

/** One (family, table): its reader and the labels of the layout they were made for. */
export class Source {
  reader: CounterReader | undefined;
  version = -1;
  labels: Readonly<Record<string, string>>[] = [];
  /** Rule slots and policy slots, in chain order. */
  ruleSlots = new Uint32Array(0);
  policySlots = new Uint32Array(0);

  constructor(
    readonly family: FamilyName,
    readonly table: TableName,
  ) {}

  relabel(t: Table, layout: CounterLayout): void {
    const base = { family: this.family, table: this.table };
    const labels: Record<string, string>[] = new Array(layout.keys.length);
    const ruleSlots: number[] = [];
    const policySlots: number[] = [];
    for (const c of layout.chains) {
      const rules = t.rules(c.name);
      for (let i = 0; i < c.count; i++) {
        const r = rules[i];
        const slot = c.first + i;
        const key = layout.keys[slot]!.toString(16).padStart(16, '0');
        labels[slot] = { ...base, chain: c.name, rule: String(i + 1), key, comment: r ? commentOf(r) : '', target: r?.target?.name ?? '' };
        ruleSlots.push(slot);
      }
      if (c.builtin && c.policy >= 0) {
        labels[c.policy] = { ...base, chain: c.name, policy: t.chain(c.name)?.policy ?? '' };
        policySlots.push(c.policy);
      }
    }
    this.labels = labels.map((l) => Object.freeze(l));
    this.ruleSlots = Uint32Array.from(ruleSlots);
    this.policySlots = Uint32Array.from(policySlots);
    const text = labels.map((l) => labelText(l));
    const lines = (name: string, slots: number[], which: 0 | 1) =>
      new SampleLines(
        slots.map((i) => `${name}${text[i]} `),
        slots.map((i) => 2 * i + which),
      );
    // The sample lines go with this label set: a Scrape is written with the lines of the layout it was read with.
    SAMPLE_LINES.set(this.labels, {
      rulePackets: lines('iptc_rule_packets_total', ruleSlots, 0),
      ruleBytes: lines('iptc_rule_bytes_total', ruleSlots, 1),
      policyPackets: lines('iptc_policy_packets_total', policySlots, 0),
      policyBytes: lines('iptc_policy_bytes_total', policySlots, 1),
    });
    this.version = layout.version;
  }

  close(): void {
    this.reader?.close();
    this.reader = undefined;
    this.version = -1;
  }
}

export interface TableLines {
  rulePackets: SampleLines;
  ruleBytes: SampleLines;
  policyPackets: SampleLines;
  policyBytes: SampleLines;
}

export const SAMPLE_LINES = new WeakMap<object, TableLines>();

/** The text of a rule's `-m comment` (several are joined with a space). */
function commentOf(r: DecodedRule): string {
  let out = '';
  for (const m of r.matches) {
    if (m.name !== 'comment') continue;
    for (const o of m.options) if (o.name === 'comment') out += (out ? ' ' : '') + o.values.join(' ');
  }
  return out;
}

/** The table read again for labels: a rule that changes between the counters' read and this one is caught by a second counters' read. */
export const RELABEL_TRIES = 3;

/**
 * Labels from a table read between two counter reads. Nothing changed in
 * between: exact. The table changed meanwhile but still has the chains and
 * rule counts the later read found (a busy table, rules replaced or
 * re-added): its labels are taken from this read for now, and made again at
 * the next scrape, so that a table that never rests is still served.
 * Returns false when the read cannot be used.
 */
export function labelFrom(s: Source, t: Table, before: CounterSnapshot, after: CounterSnapshot): boolean {
  if (after.layout.version === before.layout.version) {
    s.relabel(t, after.layout);
    return true;
  }
  const chains = t.chains();
  const same = chains.length === after.layout.chains.length && after.layout.chains.every((c, i) => chains[i]!.name === c.name && chains[i]!.length === c.count);
  if (!same) return false;
  s.relabel(t, after.layout);
  s.version = -1;
  return true;
}

export function changing(s: Source): IptcError {
  return new IptcError(`table ${s.table} (${s.family}) kept changing while its rules were read for labels`, { code: 'EAGAIN', table: s.table });
}
