/**
 * PromCollector: the firewall's counters in a prom-client registry, beside
 * an application's own metrics, in both of prom-client's formats; the
 * values as iptables-legacy-save -c prints them in the same namespace.
 */
import { spawnSync } from 'node:child_process';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PromCollector } from '../src/index.js';
import { hasTool, loUp, scratchPerTest } from './helpers.js';
import { awkwardComments, oracleRules, parseExposition } from './metrics-helpers.js';

const ns = scratchPerTest();

describe('PromCollector', () => {
  for (const contentType of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE] as const) {
    it(`registers the counters in a prom-client registry (${contentType.split(';')[0]})`, async () => {
      const s = ns();
      loUp(s);
      for (const c of awkwardComments) s.ipt(`-A INPUT -p icmp -m comment --comment '${c.replace(/'/g, `'\\''`)}' -j ACCEPT`);
      s.ipt('-A OUTPUT -o lo -j ACCEPT', 'ipv6');
      s.sh('ping -c 3 -i 0.01 -W 1 127.0.0.1; ping -6 -c 2 -i 0.01 -W 1 ::1 || true');
      const registry = new Registry<typeof contentType>();
      registry.setContentType(contentType);
      const own = new Counter({ name: 'app_requests_total', help: 'The application\'s own.', registers: [registry] });
      own.inc(3);
      const errors: Error[] = [];
      const c = new PromCollector({ netns: s.ns, backend: 'legacy', onError: (e) => errors.push(e) }).register(registry);
      try {
        const text = await registry.metrics();
        if (contentType === Registry.PROMETHEUS_CONTENT_TYPE && hasTool('promtool')) {
          const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
          expect(r.status, r.stdout + r.stderr).toBe(0);
        }
        const samples = parseExposition(text);
        expect(samples.find((x) => x.name === 'app_requests_total')!.value).toBe('3');
        for (const family of ['ipv4', 'ipv6'] as const) {
          const oracle = oracleRules(s.save(family, 'filter', true));
          const mine = (name: string) => samples.filter((x) => x.name === name && x.labels.family === family);
          expect(mine('iptc_rule_packets_total').map((x) => [x.labels.chain, x.labels.rule, x.labels.comment, x.labels.target, x.value])).toEqual(
            oracle.rules.map((r) => [r.chain, String(r.position), r.comment, r.target, r.packets]),
          );
          expect(mine('iptc_rule_bytes_total').map((x) => x.value)).toEqual(oracle.rules.map((r) => r.bytes));
          expect(mine('iptc_policy_packets_total').map((x) => [x.labels.chain, x.labels.policy, x.value])).toEqual(oracle.policies.map((p) => [p.chain, p.policy, p.packets]));
          expect(mine('iptc_policy_bytes_total').map((x) => x.value)).toEqual(oracle.policies.map((p) => p.bytes));
          expect(mine('iptc_table_rules').map((x) => x.value)).toEqual([String(oracle.rules.length)]);
        }
        expect(samples.find((x) => x.name === 'iptc_scrape_success')!.value).toBe('1');
        expect(errors).toEqual([]);
        // The JSON form reads the firewall too.
        const json = await registry.getMetricsAsJSON();
        expect(json.find((m) => m.name.startsWith('iptc_rule_packets'))!.values.length).toBe(awkwardComments.length + 1);
      } finally {
        c.close();
      }
      expect((await registry.metrics()).includes('iptc_')).toBe(false);
      expect(registry.getSingleMetric('app_requests_total')).toBe(own);
    });
  }

  it('a failed scrape is iptc_scrape_success 0 and an onError call, not a rejected registry.metrics()', async () => {
    const s = ns();
    s.ipt('-L -n');
    const registry = new Registry();
    const errors: Error[] = [];
    const c = new PromCollector({ tables: ['filter', 'raw'], families: ['ipv4'], netns: s.ns, onError: (e) => errors.push(e) }).register(registry);
    try {
      const samples = parseExposition(await registry.metrics());
      expect(samples.find((x) => x.name === 'iptc_scrape_success')!.value).toBe('0');
      expect(samples.filter((x) => x.name === 'iptc_table_scrape_success').map((x) => [x.labels.table, x.value])).toEqual([['filter', '1'], ['raw', '0']]);
      expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_IPTC_ABSENT']);
    } finally {
      c.close();
    }
  });
});
