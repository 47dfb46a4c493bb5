/**
 * Firewall counters as Prometheus metrics. Each table is polled through a
 * CounterReader (one raw kernel read, no decoding); the labels of its rules
 * (chain, position, stable key, comment, target) come from one full read of
 * the table, made again only when CounterReader reports a new layout. So a
 * scrape of an unchanged table is the kernel read plus numbers written after
 * cached sample prefixes.
 *
 * Metric families (OpenMetrics names; the 0.0.4 text names counters' TYPE
 * with their `_total`):
 *   iptc_rule_packets / iptc_rule_bytes        counter  family, table, chain, rule, key, comment, target
 *   iptc_policy_packets / iptc_policy_bytes    counter  family, table, chain, policy
 *   iptc_table_rules                           gauge    family, table
 *   iptc_table_scrape_success                  gauge    family, table
 *   iptc_scrape_duration_seconds               gauge
 *   iptc_scrape_success                        gauge    (1 when every table was read)
 */
import { statSync } from 'node:fs';
import { CounterReader, type CounterSnapshot } from './counters.js';
import { IptcError, argumentError, show } from './errors.js';
import { familyHead, labelText, type MetricsFormat } from './exposition.js';
import { changing, labelFrom, RELABEL_TRIES, SAMPLE_LINES, Source, type TableLines } from './metrics-labels.js';
import { checkTableName, type TableName } from './names.js';
import type { FamilyName } from './native.js';
import { Netns, type NetnsOption } from './netns.js';
import { listTables, listTablesSync } from './restore.js';
import { Table } from './table.js';
import { checkBackend, type BackendChoice } from './which.js';
import { checkOptionsObject } from './words.js';

export interface MetricsOptions {
  /** The tables to read. Default: every table each family has in the namespace, looked up at every scrape. */
  tables?: readonly TableName[];
  /** Default: both, ipv4 then ipv6. */
  families?: readonly FamilyName[];
  /** The namespace (an ip-netns name or path is looked up again at every scrape, so one deleted or made again is noticed). */
  netns?: NetnsOption;
  backend?: BackendChoice;
}

/** What one table gave in a scrape. */
export interface TableScrape {
  family: FamilyName;
  table: TableName;
  /** The counters read, or undefined when the read failed. */
  snapshot?: CounterSnapshot;
  /** Per slot of snapshot.layout, its labels (family and table included): a rule's chain, rule, key, comment and target; a policy's chain and policy. */
  labels?: readonly Readonly<Record<string, string>>[];
  /** Rules in the table (policies not counted). */
  rules?: number;
  error?: Error;
}

/** One scrape: every table's read, how long it took and whether all of them worked. */
export interface Scrape {
  tables: TableScrape[];
  seconds: number;
  /** False when a table or the list of tables could not be read. */
  success: boolean;
  /** What went wrong, one error per failed table (or one for the namespace). */
  errors: Error[];
}

const FAMILIES: readonly FamilyName[] = ['ipv4', 'ipv6'];


/**
 * Firewall counters as Prometheus metrics, kept open between scrapes (one
 * CounterReader per table; labels rebuilt only when a table's rules change).
 * Scrapes on one instance run one at a time.
 * @example
 * ```ts
 * import { CounterMetrics } from 'iptc-node';
 * const m = new CounterMetrics({ tables: ['filter'], families: ['ipv4'] });
 * const text = await m.scrape('openmetrics');   // what /metrics answers
 * m.close();
 * ```
 */
export class CounterMetrics {
  readonly #tables: readonly TableName[] | undefined;
  readonly #families: readonly FamilyName[];
  readonly #netns: NetnsOption;
  readonly #backend: BackendChoice;
  readonly #sources = new Map<string, Source>();
  /** For a netns given by name or path: the namespace's inode when the readers were opened. */
  #netnsIno: number | undefined;
  #pending: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: MetricsOptions = {}) {
    checkOptionsObject(options, 'options', ['tables', 'families', 'netns', 'backend']);
    if (options.tables !== undefined) {
      if (!Array.isArray(options.tables)) throw argumentError(`tables must be an array of table names, got ${show(options.tables)}`);
      options.tables.forEach((t) => checkTableName(t));
    }
    const families = options.families ?? FAMILIES;
    if (!Array.isArray(families) || families.length === 0 || families.some((f) => f !== 'ipv4' && f !== 'ipv6')) {
      throw argumentError(`families must be a non-empty array of 'ipv4' and 'ipv6', got ${show(options.families)}`);
    }
    const netns = options.netns;
    if (netns !== undefined && typeof netns !== 'string' && !(netns instanceof Netns)) throw argumentError(`netns must be a Netns, an ip-netns name or a path, got ${show(netns)}`);
    this.#tables = options.tables ? [...new Set(options.tables)] : undefined;
    this.#families = [...new Set(families)];
    this.#netns = netns;
    this.#backend = checkBackend(options.backend);
  }

  /**
   * Reads every table once, off the event loop; a table that fails is reported in the result, never thrown.
   * @example
   * ```ts
   * import { CounterMetrics } from 'iptc-node';
   * const m = new CounterMetrics({ tables: ['filter'] });
   * const scrape = await m.collect();
   * for (const e of scrape.errors) console.error(e.message);
   * ```
   */
  collect(): Promise<Scrape> {
    const run = this.#pending.then(
      () => this.#collect(),
      () => this.#collect(),
    );
    this.#pending = run;
    return run;
  }

  /**
   * Like collect(), on the calling thread.
   * @example
   * ```ts
   * import { CounterMetrics } from 'iptc-node';
   * const m = new CounterMetrics({ families: ['ipv4'] });
   * console.log(m.collectSync().success);
   * ```
   */
  collectSync(): Scrape {
    const t0 = process.hrtime.bigint();
    const out: TableScrape[] = [];
    const errors: Error[] = [];
    for (const [family, tables] of this.#plan(errors, out)) {
      let names: readonly TableName[];
      try {
        names = tables ?? listTablesSync({ family, netns: this.#netns, backend: this.#backend });
      } catch (e) {
        names = this.#noList(family, e, errors);
      }
      for (const table of names) {
        const s = this.#source(family, table);
        try {
          out.push(this.#result(s, this.#readSync(s)));
        } catch (e) {
          out.push(this.#failed(s, e, errors));
        }
      }
    }
    return this.#done(out, errors, t0);
  }

  /**
   * One scrape as exposition text: OpenMetrics (default) or the Prometheus 0.0.4 text format.
   * @example
   * ```ts
   * import { CounterMetrics } from 'iptc-node';
   * const m = new CounterMetrics();
   * process.stdout.write(await m.scrape('prometheus'));
   * ```
   */
  async scrape(format: MetricsFormat = 'openmetrics'): Promise<string> {
    checkFormat(format);
    return this.format(await this.collect(), format);
  }

  /**
   * Like scrape(), on the calling thread.
   * @example
   * ```ts
   * import { CounterMetrics } from 'iptc-node';
   * const text = new CounterMetrics({ netns: 'blue' }).scrapeSync();
   * ```
   */
  scrapeSync(format: MetricsFormat = 'openmetrics'): string {
    checkFormat(format);
    return this.format(this.collectSync(), format);
  }

  /**
   * Writes a Scrape of this instance as exposition text (what an HTTP server
   * does after looking at the errors of collect()).
   * @example
   * ```ts
   * import { CounterMetrics } from 'iptc-node';
   * const m = new CounterMetrics();
   * const scrape = await m.collect();
   * const text = m.format(scrape, scrape.success ? 'openmetrics' : 'prometheus');
   * ```
   */
  format(scrape: Scrape, format: MetricsFormat = 'openmetrics'): string {
    return this.#bytes(scrape, format).toString('utf8');
  }

  /**
   * Like format(), as UTF-8 bytes (what an HTTP response sends; for a large
   * table, no string is made at all). With `into`, a Buffer the caller no
   * longer uses, the bytes are written there when they fit (the result is a
   * part of it): a server that scrapes a large table often keeps its memory
   * flat by handing back the last response's Buffer once it is sent.
   * @example
   * ```ts
   * import { CounterMetrics, CONTENT_TYPES } from 'iptc-node';
   * import { createServer } from 'node:http';
   * const m = new CounterMetrics();
   * createServer(async (_req, res) => {
   *   res.writeHead(200, { 'content-type': CONTENT_TYPES.prometheus });
   *   res.end(m.formatBuffer(await m.collect(), 'prometheus'));
   * }).listen(9455, '127.0.0.1');
   * ```
   */
  formatBuffer(scrape: Scrape, format: MetricsFormat = 'openmetrics', into?: Uint8Array): Uint8Array {
    // (A Buffer, declared as the Uint8Array it is, so that the declarations need no @types/node.)
    return this.#bytes(scrape, format, into);
  }

  #bytes(scrape: Scrape, format: MetricsFormat, into?: Uint8Array): Buffer {
    checkFormat(format);
    const ok: { l: TableLines; c: BigUint64Array }[] = [];
    for (const t of scrape.tables) {
      const l = t.snapshot && t.labels ? SAMPLE_LINES.get(t.labels) : undefined;
      if (l) ok.push({ l, c: t.snapshot!.counters });
    }
    const sections: [keyof TableLines, string, string][] = [
      ['rulePackets', 'iptc_rule_packets', 'Packets matched by each rule.'],
      ['ruleBytes', 'iptc_rule_bytes', 'Bytes matched by each rule.'],
      ['policyPackets', 'iptc_policy_packets', 'Packets that reached the end of a built-in chain and took its policy.'],
      ['policyBytes', 'iptc_policy_bytes', 'Bytes that reached the end of a built-in chain and took its policy.'],
    ];
    let tail = familyHead(format, 'iptc_table_rules', 'gauge', 'Rules in the table.');
    for (const t of scrape.tables) if (t.rules !== undefined) tail += `iptc_table_rules${labelText({ family: t.family, table: t.table })} ${t.rules}\n`;
    tail += familyHead(format, 'iptc_table_scrape_success', 'gauge', 'Whether the table was read (1) or not (0).');
    for (const t of scrape.tables) tail += `iptc_table_scrape_success${labelText({ family: t.family, table: t.table })} ${t.snapshot ? 1 : 0}\n`;
    tail += familyHead(format, 'iptc_scrape_duration_seconds', 'gauge', 'Seconds the scrape took to read every table.');
    tail += `iptc_scrape_duration_seconds ${scrape.seconds}\n`;
    tail += familyHead(format, 'iptc_scrape_success', 'gauge', 'Whether every table (and the list of tables) was read.');
    tail += `iptc_scrape_success ${scrape.success ? 1 : 0}\n`;
    if (format === 'openmetrics') tail += '# EOF\n';
    const heads = sections.map(([, name, help]) => familyHead(format, name, 'counter', help));
    let size = Buffer.byteLength(tail) + heads.reduce((n, h) => n + h.length, 0);
    for (const { l } of ok) for (const [k] of sections) size += l[k].maxBytes;
    const out = into && into.length >= size ? Buffer.from(into.buffer, into.byteOffset, into.byteLength) : Buffer.allocUnsafe(size);
    let pos = 0;
    sections.forEach(([k], i) => {
      pos += out.write(heads[i]!, pos, 'latin1');
      for (const { l, c } of ok) pos = l[k].write(out, pos, c);
    });
    pos += out.write(tail, pos, 'utf8');
    return out.subarray(0, pos);
  }

  /**
   * Closes every reader.
   * @example
   * ```ts
   * import { CounterMetrics } from 'iptc-node';
   * const m = new CounterMetrics();
   * try { await m.scrape(); } finally { m.close(); }
   * ```
   */
  close(): void {
    this.#closed = true;
    for (const s of this.#sources.values()) s.close();
    this.#sources.clear();
  }

  /**
   * close(), for `using`.
   * @example
   * ```ts
   * import { CounterMetrics } from 'iptc-node';
   * using m = new CounterMetrics();
   * await m.scrape();
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  async #collect(): Promise<Scrape> {
    const t0 = process.hrtime.bigint();
    const out: TableScrape[] = [];
    const errors: Error[] = [];
    const plan = await Promise.all(
      this.#plan(errors, out).map(async ([family, tables]) => {
        try {
          return [family, tables ?? (await listTables({ family, netns: this.#netns, backend: this.#backend }))] as const;
        } catch (e) {
          return [family, this.#noList(family, e, errors)] as const;
        }
      }),
    );
    for (const [family, tables] of plan) {
      for (const table of tables) {
        const s = this.#source(family, table);
        try {
          out.push(this.#result(s, await this.#read(s)));
        } catch (e) {
          out.push(this.#failed(s, e, errors));
        }
      }
    }
    return this.#done(out, errors, t0);
  }

  /**
   * Per family, the tables named (undefined: list them now). The namespace
   * is checked first: when it is gone, nothing is read, and each table named
   * is reported as failed.
   */
  #plan(errors: Error[], out: TableScrape[]): [FamilyName, readonly TableName[] | undefined][] {
    if (this.#closed) throw new IptcError('this CounterMetrics is closed', { code: 'ERR_IPTC_CLOSED' });
    try {
      this.#checkNetns();
    } catch (e) {
      errors.push(e as Error);
      for (const family of this.#families) for (const table of this.#tables ?? []) out.push({ family, table, error: e as Error });
      return [];
    }
    return this.#families.map((f) => [f, this.#tables]);
  }

  #noList(f: FamilyName, e: unknown, errors: Error[]): TableName[] {
    const err = e as Error;
    err.message = `cannot list the ${f} tables: ${err.message}`;
    errors.push(err);
    return [];
  }

  /**
   * A namespace given by name or path is looked up again: when it is gone,
   * the scrape fails (and the readers, which would keep it alive, close);
   * when it is another one, the readers open again there.
   */
  #checkNetns(): void {
    if (typeof this.#netns !== 'string') return;
    const path = this.#netns.includes('/') ? this.#netns : `/run/netns/${this.#netns}`;
    let ino: number;
    try {
      ino = statSync(path).ino;
    } catch (e) {
      for (const s of this.#sources.values()) s.close();
      throw new IptcError(`network namespace ${this.#netns} is gone (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { code: 'ERR_IPTC_NETNS' });
    }
    if (this.#netnsIno !== undefined && ino !== this.#netnsIno) for (const s of this.#sources.values()) s.close();
    this.#netnsIno = ino;
  }

  #source(family: FamilyName, table: TableName): Source {
    const k = `${family}/${table}`;
    let s = this.#sources.get(k);
    if (!s) this.#sources.set(k, (s = new Source(family, table)));
    return s;
  }

  #open(s: Source): CounterReader {
    return (s.reader ??= new CounterReader(s.table, { family: s.family, netns: this.#netns, backend: this.#backend }));
  }

  async #read(s: Source): Promise<CounterSnapshot> {
    const reader = this.#open(s);
    let snap = await reader.read();
    for (let tries = 0; snap.layout.version !== s.version; tries++) {
      if (tries === RELABEL_TRIES) throw changing(s);
      const t = await Table.open(s.table, { family: s.family, netns: this.#netns, backend: reader.backend });
      const again = await reader.read();
      const done = labelFrom(s, t, snap, again);
      snap = again;
      if (done) break;
    }
    return snap;
  }

  #readSync(s: Source): CounterSnapshot {
    const reader = this.#open(s);
    let snap = reader.readSync();
    for (let tries = 0; snap.layout.version !== s.version; tries++) {
      if (tries === RELABEL_TRIES) throw changing(s);
      const t = Table.openSync(s.table, { family: s.family, netns: this.#netns, backend: reader.backend });
      const again = reader.readSync();
      const done = labelFrom(s, t, snap, again);
      snap = again;
      if (done) break;
    }
    return snap;
  }

  #result(s: Source, snapshot: CounterSnapshot): TableScrape {
    return { family: s.family, table: s.table, snapshot, labels: s.labels, rules: s.ruleSlots.length };
  }

  #failed(s: Source, e: unknown, errors: Error[]): TableScrape {
    // A reader that failed opens again at the next scrape (the table may come back).
    s.close();
    const error = e instanceof Error ? e : new Error(String(e));
    error.message = `${s.family} table ${s.table}: ${error.message}`;
    errors.push(error);
    return { family: s.family, table: s.table, error };
  }

  #done(tables: TableScrape[], errors: Error[], t0: bigint): Scrape {
    // Readers of tables no longer listed are closed.
    const seen = new Set(tables.map((t) => `${t.family}/${t.table}`));
    for (const [k, s] of this.#sources) {
      if (!seen.has(k)) {
        s.close();
        this.#sources.delete(k);
      }
    }
    return { tables, seconds: Number(process.hrtime.bigint() - t0) / 1e9, success: errors.length === 0, errors };
  }
}


function checkFormat(format: unknown): asserts format is MetricsFormat {
  if (format !== 'openmetrics' && format !== 'prometheus') throw argumentError(`format must be 'openmetrics' or 'prometheus', got ${show(format)}`);
}

/**
 * One scrape of the firewall's counters as exposition text, for a caller
 * that scrapes rarely (an exporter keeps a CounterMetrics open instead, so
 * labels are built once).
 * @example
 * ```ts
 * import { metrics } from 'iptc-node';
 * process.stdout.write(await metrics({ tables: ['filter'], families: ['ipv4'], format: 'prometheus' }));
 * ```
 */
export async function metrics(options: MetricsOptions & { format?: MetricsFormat } = {}): Promise<string> {
  checkOptionsObject(options, 'options', ['tables', 'families', 'netns', 'backend', 'format']);
  const { format = 'openmetrics', ...rest } = options;
  checkFormat(format);
  const m = new CounterMetrics(rest);
  try {
    return await m.scrape(format);
  } finally {
    m.close();
  }
}

/**
 * Like metrics(), on the calling thread.
 * @example
 * ```ts
 * import { metricsSync } from 'iptc-node';
 * const text = metricsSync({ tables: ['filter'], netns: 'blue' });
 * ```
 */
export function metricsSync(options: MetricsOptions & { format?: MetricsFormat } = {}): string {
  checkOptionsObject(options, 'options', ['tables', 'families', 'netns', 'backend', 'format']);
  const { format = 'openmetrics', ...rest } = options;
  checkFormat(format);
  const m = new CounterMetrics(rest);
  try {
    return m.scrapeSync(format);
  } finally {
    m.close();
  }
}
