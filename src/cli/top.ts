/**
 * `iptc top`: the busiest rules by packets/s, refreshed every interval. On a
 * terminal it redraws one screen and quits on q or Ctrl-C; otherwise it
 * prints plain lines, one block per interval.
 */
import { CounterReader, rates, type CounterSnapshot } from '../counters.js';
import type { BackendName } from '../backend.js';
import type { FamilyName } from '../native.js';
import type { NetnsOption } from '../netns.js';
import { Table } from '../table.js';
import { formatRule } from '../parse.js';
import type { TableName } from '../names.js';

export interface TopOptions {
  table: TableName;
  family: FamilyName;
  backend: BackendName;
  netns?: NetnsOption;
  intervalMs: number;
  /** Rows to show. */
  rows: number;
  /** Stop after this many refreshes (default: until q / Ctrl-C / SIGTERM). */
  count?: number;
  out: NodeJS.WriteStream;
  input: NodeJS.ReadStream;
  /** One JSON object per refresh, one per line (never the screen). */
  json?: boolean;
}

interface Row {
  where: string;
  pps: number;
  bps: number;
  text: string;
}

export async function top(o: TopOptions): Promise<void> {
  const reader = new CounterReader(o.table, { family: o.family, netns: o.netns, backend: o.backend });
  const tty = o.out.isTTY === true && !o.json;
  let names: string[] = [];
  let namesVersion = -1;
  let prev: CounterSnapshot = await reader.read();
  let stop = false;
  let wake: () => void = () => {};
  const quit = () => {
    stop = true;
    wake();
  };
  const onKey = (b: Buffer) => {
    if (b.includes(0x71) || b.includes(0x03)) quit(); // q, Ctrl-C
  };
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  if (tty && o.input.isTTY) {
    o.input.setRawMode(true);
    o.input.on('data', onKey);
    o.input.resume();
    o.out.write('\x1b[?25l'); // hide the cursor
  }
  try {
    for (let n = 0; !stop && (o.count === undefined || n < o.count); n++) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, o.intervalMs);
      });
      if (stop) break;
      const next = await reader.read();
      if (next.layout.version !== namesVersion) {
        // Rule texts only when the rules changed: one full read, not one per refresh.
        const t = await Table.open(o.table, { family: o.family, netns: o.netns, backend: o.backend });
        names = [];
        for (const c of next.layout.chains) {
          t.rules(c.name).forEach((r, i) => (names[c.first + i] = formatRule(r, { chain: c.name })));
          if (c.builtin) names[c.policy] = `:${c.name} policy ${t.chain(c.name)!.policy}`;
        }
        namesVersion = next.layout.version;
      }
      const r = rates(prev, next);
      prev = next;
      const rows: Row[] = [];
      for (const c of next.layout.chains) {
        for (let i = 0; i < c.count; i++) {
          const s = c.first + i;
          rows.push({ where: `${c.name}:${i + 1}`, pps: r.packetsPerSecond[s]!, bps: r.bytesPerSecond[s]!, text: names[s] ?? '' });
        }
        if (c.builtin) rows.push({ where: `${c.name}:policy`, pps: r.packetsPerSecond[c.policy]!, bps: r.bytesPerSecond[c.policy]!, text: names[c.policy] ?? '' });
      }
      rows.sort((a, b) => b.pps - a.pps || b.bps - a.bps || a.where.localeCompare(b.where));
      const shown = rows.slice(0, o.rows);
      const width = Math.max(5, ...shown.map((x) => x.where.length));
      const lines = shown.map((x) => `${x.where.padEnd(width)}  ${humanRate(x.pps).padStart(9)}  ${humanRate(x.bps * 8).replace('/s', 'b/s').padStart(10)}  ${x.text}`);
      const head = `${'rule'.padEnd(width)}  ${'packets'.padStart(9)}  ${'bits'.padStart(10)}  ${o.family} ${o.table}, every ${o.intervalMs} ms`;
      if (o.json) {
        const at = new Date().toISOString();
        const rules = shown.map((x) => ({ rule: x.where, packetsPerSecond: x.pps, bitsPerSecond: x.bps * 8, text: x.text }));
        o.out.write(`${JSON.stringify({ time: at, family: o.family, table: o.table, intervalMs: o.intervalMs, rules })}\n`);
      } else if (tty) {
        const cols = o.out.columns || 120;
        o.out.write(`\x1b[H\x1b[2J${[head, ...lines].map((l) => l.slice(0, cols)).join('\n')}\n\n(q to quit)`);
      } else {
        o.out.write(`${[`# ${new Date().toISOString()}`, head, ...lines].join('\n')}\n`);
      }
    }
  } finally {
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
    if (tty && o.input.isTTY) {
      o.input.off('data', onKey);
      o.input.setRawMode(false);
      o.input.pause();
      o.out.write('\x1b[?25h\n');
    }
    reader.close();
  }
}

/** A rate per second: "12.3K/s". */
function humanRate(x: number): string {
  if (x < 1000) return `${x < 10 ? x.toFixed(1) : Math.round(x)}/s`;
  const units = ['K', 'M', 'G', 'T'];
  let u = -1;
  while (x >= 1000 && u < units.length - 1) {
    x /= 1000;
    u++;
  }
  return `${x < 10 ? x.toFixed(1) : Math.round(x)}${units[u]}/s`;
}
