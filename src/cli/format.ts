/**
 * Text for people at a terminal: `iptc list` tables (like iptables -nvL) and
 * human units.
 */
import type { Table } from '../table.js';
import type { DecodedRule } from '../rule.js';
import { SPEC } from '../rule.js';

/** 1234567 → "1235K", as iptables -v prints counters (powers of 1000, K M G T P). */
export function human(n: bigint | number): string {
  let v = typeof n === 'bigint' ? n : BigInt(Math.round(n));
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let u = 0;
  while (v > 99999n && u < units.length - 1) {
    v = (v + 500n) / 1000n;
    u++;
  }
  return `${v}${units[u]}`;
}

/** A rate per second: "12.3K/s". */
export function humanRate(x: number): string {
  if (x < 1000) return `${x < 10 ? x.toFixed(1) : Math.round(x)}/s`;
  const units = ['K', 'M', 'G', 'T'];
  let u = -1;
  while (x >= 1000 && u < units.length - 1) {
    x /= 1000;
    u++;
  }
  return `${x < 10 ? x.toFixed(1) : Math.round(x)}${units[u]}/s`;
}

/** What follows the address part of a rule's spec: its matches and target options. */
export function ruleExtras(r: DecodedRule): string {
  const spec = r[SPEC];
  const at = spec.indexOf(' -m ');
  const matches = at >= 0 ? spec.slice(at + 1).replace(/ -[jg] \S+.*$/, '') : '';
  const tOpts = r.target?.kind === 'extension' ? spec.slice(spec.indexOf(` -j ${r.target.name}`) + 4 + r.target.name.length).trim() : '';
  return [matches, tOpts].filter(Boolean).join(' ');
}

function pad(rows: string[][], rightAligned: Set<number>): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** The chains of a table as `iptables -nvL` shows them, with rule numbers and aligned columns. */
export function listTable(t: Table, chain?: string, exact = false): string {
  const out: string[] = [];
  const num = (n: bigint) => (exact ? String(n) : human(n));
  for (const c of chain === undefined ? t.chains() : [t.chain(chain)!]) {
    out.push(
      c.builtin
        ? `Chain ${c.name} (policy ${c.policy} ${num(c.counters!.packets)} packets, ${num(c.counters!.bytes)} bytes)`
        : `Chain ${c.name} (${c.references} references)`,
    );
    const rows = [['num', 'pkts', 'bytes', 'target', 'prot', 'in', 'out', 'source', 'destination', '']];
    t.rules(c.name).forEach((r, i) => {
      const neg = (k: keyof DecodedRule['invert'], v: string | undefined, any: string) => (v === undefined ? any : `${r.invert[k] ? '!' : ''}${v}`);
      const anyAddr = t.family === 'ipv4' ? '0.0.0.0/0' : '::/0';
      rows.push([
        String(i + 1),
        num(r.counters.packets),
        num(r.counters.bytes),
        r.target ? `${r.target.kind === 'goto' ? 'g:' : ''}${r.target.name}` : '',
        neg('protocol', r.protocol, 'all'),
        neg('inInterface', r.inInterface, '*'),
        neg('outInterface', r.outInterface, '*'),
        neg('source', r.source, anyAddr),
        neg('destination', r.destination, anyAddr),
        ruleExtras(r),
      ]);
    });
    out.push(...pad(rows, new Set([0, 1, 2])), '');
  }
  return out.join('\n');
}
