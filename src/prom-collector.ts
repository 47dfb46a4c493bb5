/**
 * The firewall's counters in an application's own prom-client registry, so
 * its /metrics carries them beside its other metrics. prom-client is an
 * optional peer dependency and is never imported here: a registry takes
 * any object shaped like one of its metrics (name, help, type, get()), so
 * each metric family below is such an object, and one scrape of the
 * firewall (a CounterMetrics collect) serves all of them in one
 * registry.metrics() call.
 */
import type { FamilyName } from './native.js';
import { CounterMetrics, type MetricsOptions, type Scrape } from './metrics.js';

/** What iptc-node uses of a prom-client Registry (prom-client's `register` or a `new Registry()`). */
export interface RegistryLike {
  registerMetric(metric: never): void;
  removeSingleMetric(name: string): void;
}

interface Value {
  labels: Record<string, string | number>;
  value: number;
}

/** One metric family, in the shape prom-client's Registry reads. */
interface FamilyMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  aggregator: 'sum' | 'max';
  get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }>;
  reset(): void;
}

export interface CollectorOptions extends MetricsOptions {
  /** Called with each error of a scrape (a failed table, a gone namespace); the metrics still answer, with iptc_scrape_success 0. */
  onError?: (error: Error) => void;
}

type Pick = (s: Scrape) => Value[];

const perTable = (s: Scrape, f: (family: FamilyName, table: string) => number | undefined): Value[] =>
  s.tables.flatMap((t) => {
    const v = f(t.family, t.table);
    return v === undefined ? [] : [{ labels: { family: t.family, table: t.table }, value: v }];
  });

/** Rule or policy slots' counters (packets: 0, bytes: 1). */
const slots = (policy: boolean, which: 0 | 1): Pick => (s) => {
  const out: Value[] = [];
  for (const t of s.tables) {
    if (!t.snapshot || !t.labels) continue;
    const c = t.snapshot.counters;
    t.labels.forEach((labels, i) => {
      if ((labels.policy !== undefined) === policy) out.push({ labels, value: Number(c[2 * i + which]!) });
    });
  }
  return out;
};

const FAMILIES: [name: string, type: 'counter' | 'gauge', help: string, pick: Pick][] = [
  ['iptc_rule_packets_total', 'counter', 'Packets matched by each rule.', slots(false, 0)],
  ['iptc_rule_bytes_total', 'counter', 'Bytes matched by each rule.', slots(false, 1)],
  ['iptc_policy_packets_total', 'counter', 'Packets that reached the end of a built-in chain and took its policy.', slots(true, 0)],
  ['iptc_policy_bytes_total', 'counter', 'Bytes that reached the end of a built-in chain and took its policy.', slots(true, 1)],
  ['iptc_table_rules', 'gauge', 'Rules in the table.', (s) => perTable(s, (f, n) => s.tables.find((t) => t.family === f && t.table === n)?.rules)],
  ['iptc_table_scrape_success', 'gauge', 'Whether the table was read (1) or not (0).', (s) => perTable(s, (f, n) => (s.tables.find((t) => t.family === f && t.table === n)?.snapshot ? 1 : 0))],
  ['iptc_scrape_duration_seconds', 'gauge', 'Seconds the scrape took to read every table.', (s) => [{ labels: {}, value: s.seconds }]],
  ['iptc_scrape_success', 'gauge', 'Whether every table (and the list of tables) was read.', (s) => [{ labels: {}, value: s.success ? 1 : 0 }]],
];

/**
 * The firewall's counters registered in a prom-client registry: the same
 * metric names and labels as metrics() and `iptc exporter` (see README).
 * The registry reads the kernel once per registry.metrics() call.
 * @example
 * ```ts
 * import { PromCollector, type RegistryLike } from 'iptc-node';
 * declare const register: RegistryLike; // import { register } from 'prom-client'
 * const firewall = new PromCollector({ tables: ['filter'] }).register(register);
 * // ... the application's /metrics handler answers await register.metrics()
 * firewall.close();
 * ```
 */
export class PromCollector {
  readonly #metrics: CounterMetrics;
  readonly #onError: ((e: Error) => void) | undefined;
  readonly #families: FamilyMetric[];
  #registries: RegistryLike[] = [];
  #pending: Promise<Scrape> | undefined;

  constructor(options: CollectorOptions = {}) {
    const { onError, ...rest } = options;
    this.#metrics = new CounterMetrics(rest);
    this.#onError = onError;
    this.#families = FAMILIES.map(([name, type, help, pick]) => {
      const m: FamilyMetric = {
        name,
        help,
        type,
        aggregator: type === 'counter' ? 'sum' : 'max',
        // A registry may rename a counter (an OpenMetrics one drops `_total`): read the name at get().
        get: async () => ({ name: m.name, help, type, values: pick(await this.#scrape()), aggregator: m.aggregator }),
        reset: () => {},
      };
      return m;
    });
  }

  /**
   * Adds the metric families to a registry (prom-client's `register`, or a `new Registry()`).
   * @example
   * ```ts
   * import { PromCollector, type RegistryLike } from 'iptc-node';
   * declare const registry: RegistryLike; // new Registry() from prom-client
   * new PromCollector({ families: ['ipv4'] }).register(registry);
   * ```
   */
  register(registry: RegistryLike): this {
    for (const m of this.#families) registry.registerMetric(m as never);
    this.#registries.push(registry);
    return this;
  }

  /**
   * Takes the metric families out of every registry they were added to, and closes the counter readers.
   * @example
   * ```ts
   * import { PromCollector, type RegistryLike } from 'iptc-node';
   * declare const register: RegistryLike; // import { register } from 'prom-client'
   * const c = new PromCollector().register(register);
   * c.close();
   * ```
   */
  close(): void {
    // By the name it was registered under (an OpenMetrics registry renames counters as it writes them).
    for (const r of this.#registries) for (const [name] of FAMILIES) r.removeSingleMetric(name);
    this.#registries = [];
    this.#metrics.close();
  }

  /** One firewall read shared by every family of one registry.metrics() call (it asks them all at once). */
  #scrape(): Promise<Scrape> {
    if (!this.#pending) {
      this.#pending = this.#metrics.collect().then((s) => {
        for (const e of s.errors) this.#onError?.(e);
        return s;
      });
      const clear = () => void (this.#pending = undefined);
      this.#pending.then(clear, clear);
    }
    return this.#pending;
  }
}
