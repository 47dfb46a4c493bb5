/**
 * metrics(): every rule's and policy's counters, as iptables-legacy-save -c
 * prints them in the same namespace, with the labels its text holds
 * (comment, target); the exposition accepted by promtool; labels rebuilt
 * only when the rules change; failed scrapes reported, not thrown.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CounterMetrics, metrics, metricsSync, negotiateFormat } from '../src/index.js';
import { FIXTURES } from './fixtures.js';
import { hasTool, nftTool, scratchPerTest, stripComments } from './helpers.js';
import { awkwardComments, oracleRules, parseExposition, type Sample } from './metrics-helpers.js';

const ns = scratchPerTest();

const rulesOf = (samples: Sample[], name: string) => samples.filter((x) => x.name === name);

describe('metrics()', () => {
  for (const fx of FIXTURES) {
    it(`counters and labels as iptables-legacy-save -c has them, ${fx.family} ${fx.table}`, async () => {
      const s = ns();
      s.restore(fx.text, fx.family);
      s.sh('ip link set lo up');
      s.sh(fx.family === 'ipv4' ? 'ping -c 3 -i 0.01 -W 1 127.0.0.1 || true' : 'ping -6 -c 3 -i 0.01 -W 1 ::1 || true');
      const text = await metrics({ tables: [fx.table], families: [fx.family], netns: s.ns, backend: 'legacy' });
      const oracle = oracleRules(s.save(fx.family, fx.table, true));
      const samples = parseExposition(text);
      const packets = rulesOf(samples, 'iptc_rule_packets_total');
      const bytes = rulesOf(samples, 'iptc_rule_bytes_total');
      expect(packets.map((x) => [x.labels.chain, x.labels.rule, x.labels.target, x.labels.comment, x.value])).toEqual(
        oracle.rules.map((r) => [r.chain, String(r.position), r.target, r.comment, r.packets]),
      );
      expect(bytes.map((x) => [x.labels.chain, x.labels.rule, x.value])).toEqual(oracle.rules.map((r) => [r.chain, String(r.position), r.bytes]));
      for (const x of [...packets, ...bytes]) expect(x.labels).toMatchObject({ family: fx.family, table: fx.table });
      const policies = rulesOf(samples, 'iptc_policy_packets_total');
      expect(policies.map((x) => [x.labels.chain, x.labels.policy, x.value])).toEqual(oracle.policies.map((p) => [p.chain, p.policy, p.packets]));
      expect(rulesOf(samples, 'iptc_policy_bytes_total').map((x) => x.value)).toEqual(oracle.policies.map((p) => p.bytes));
      expect(rulesOf(samples, 'iptc_table_rules').map((x) => x.value)).toEqual([String(oracle.rules.length)]);
      expect(rulesOf(samples, 'iptc_scrape_success')[0]!.value).toBe('1');
      expect(text.endsWith('# EOF\n')).toBe(true);
    });
  }

  it('escapes any comment so that promtool accepts the text, and keys follow a rule moved by an insert above it', async (ctx) => {
    if (!hasTool('promtool')) return ctx.skip();
    const s = ns();
    for (const c of awkwardComments) s.ipt(`-A INPUT -p udp -m comment --comment '${c.replace(/'/g, `'\\''`)}' -j ACCEPT`);
    s.ipt('-N X');
    s.ipt('-A INPUT -j X');
    s.ipt('-A OUTPUT -j ACCEPT', 'ipv6');
    const m = new CounterMetrics({ netns: s.ns, backend: 'legacy' });
    try {
      for (const format of ['openmetrics', 'prometheus'] as const) {
        const text = await m.scrape(format);
        // promtool reads the 0.0.4 text only (OpenMetrics is checked by a real Prometheus: exporter.test.ts).
        if (format === 'prometheus') {
          const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
          expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
        }
        expect(text.endsWith('# EOF\n')).toBe(format === 'openmetrics');
        // Every table there is, both families, when none are named.
        const tables = rulesOf(parseExposition(text), 'iptc_table_scrape_success').map((x) => `${x.labels.family} ${x.labels.table}`);
        expect(tables).toEqual(['ipv4 filter', 'ipv6 filter']);
      }
      const oracle = oracleRules(s.save('ipv4', 'filter', true));
      const before = rulesOf(parseExposition(m.scrapeSync()), 'iptc_rule_packets_total').filter((x) => x.labels.family === 'ipv4');
      expect(before.map((x) => x.labels.comment)).toEqual(oracle.rules.map((r) => r.comment));
      // A rule inserted above, and a chain sorted in front of X (which moves X and every jump's verdict).
      s.ipt('-I INPUT 1 -p tcp -j DROP');
      s.ipt('-N A');
      s.ipt('-A A -p tcp');
      const after = rulesOf(parseExposition(await m.scrape()), 'iptc_rule_packets_total').filter((x) => x.labels.family === 'ipv4');
      expect(after.length).toBe(before.length + 2);
      const inInput = after.filter((x) => x.labels.chain === 'INPUT');
      for (let i = 0; i < before.length; i++) {
        expect(inInput[i + 1]!.labels.key, before[i]!.labels.target).toBe(before[i]!.labels.key);
        expect(inInput[i + 1]!.labels.rule).toBe(String(i + 2));
      }
      // A rule without a target, keyed alike wherever it is.
      const counting = after.find((x) => x.labels.chain === 'A')!.labels.key;
      s.ipt('-I A 1 -p udp');
      const again = rulesOf(parseExposition(await m.scrape()), 'iptc_rule_packets_total').filter((x) => x.labels.chain === 'A');
      expect(again[1]!.labels.key).toBe(counting);
    } finally {
      m.close();
    }
  });

  it('writes counters of any size, 32 bits and more, as iptables-legacy-save -c prints them', () => {
    const s = ns();
    const values = ['0', '9', '10', '4294967295', '4294967296', '1000000000000', '9007199254740993', '18446744073709551615'];
    const lines = values.map((v, i) => `[${v}:${values[(i + 3) % values.length]}] -A INPUT -p udp --dport ${i + 1} -j ACCEPT`);
    s.restore(`*filter\n:INPUT ACCEPT [18446744073709551614:4294967297]\n${lines.join('\n')}\nCOMMIT\n`, 'ipv4', '-c');
    const oracle = oracleRules(s.save('ipv4', 'filter', true));
    const m = new CounterMetrics({ tables: ['filter'], families: ['ipv4'], netns: s.ns });
    try {
      const samples = parseExposition(m.formatBuffer(m.collectSync(), 'prometheus').toString());
      expect(rulesOf(samples, 'iptc_rule_packets_total').map((x) => x.value)).toEqual(oracle.rules.map((r) => r.packets));
      expect(rulesOf(samples, 'iptc_rule_bytes_total').map((x) => x.value)).toEqual(oracle.rules.map((r) => r.bytes));
      expect(rulesOf(samples, 'iptc_policy_packets_total').map((x) => x.value)).toEqual(oracle.policies.map((p) => p.packets));
      expect(rulesOf(samples, 'iptc_policy_bytes_total').map((x) => x.value)).toEqual(oracle.policies.map((p) => p.bytes));
      expect(oracle.rules.map((r) => r.packets)).toEqual(values);
    } finally {
      m.close();
    }
  });

  it('rebuilds labels only when the layout changes', async () => {
    const s = ns();
    s.sh('ip link set lo up');
    s.ipt('-A OUTPUT -o lo -p icmp -m comment --comment first -j ACCEPT');
    const m = new CounterMetrics({ tables: ['filter'], families: ['ipv4'], netns: s.ns });
    try {
      const a = await m.collect();
      s.sh('ping -c 2 -i 0.01 127.0.0.1');
      const b = await m.collect();
      expect(b.tables[0]!.labels).toBe(a.tables[0]!.labels);
      expect(b.tables[0]!.snapshot!.layout).toBe(a.tables[0]!.snapshot!.layout);
      s.ipt('-R OUTPUT 1 -o lo -p icmp -m comment --comment second -j ACCEPT');
      const c = await m.collect();
      expect(c.tables[0]!.labels).not.toBe(a.tables[0]!.labels);
      expect(c.tables[0]!.labels!.find((l) => l.chain === 'OUTPUT' && l.rule === '1')!.comment).toBe('second');
    } finally {
      m.close();
    }
  });

  it('labels a table right while another process changes it over and over (a busy table is still served)', async () => {
    const s = ns();
    const rules = Array.from({ length: 5000 }, (_, i) => `-A INPUT -p tcp -m tcp --dport ${i + 1} -m comment --comment "r${i + 1}" -j ACCEPT`);
    s.restore(`*filter\n${rules.join('\n')}\nCOMMIT\n`);
    // A writer faster than a full read of the table: iptc-node's own update, in a loop, in another process.
    const writer = `import('${process.cwd()}/dist/index.js').then(async ({ Table }) => {
      for (let i = 1; ; i = (i % 60000) + 1) await Table.update('filter', {}, (t) => t.replace('INPUT', 1, ['-p', 'udp', '--dport', String(i), '-j', 'ACCEPT']));
    })`;
    const busy = spawn('nsenter', [`--net=${s.ns.path}`, process.execPath, '-e', writer], { stdio: 'ignore', detached: true });
    const m = new CounterMetrics({ tables: ['filter'], families: ['ipv4'], netns: s.ns });
    try {
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 5; i++) {
        const x = await m.collect();
        expect(x.errors).toEqual([]);
        const t = x.tables[0]!;
        expect(t.rules).toBe(5000);
        const labels = t.labels!.filter((l) => l.chain === 'INPUT' && l.rule !== undefined);
        // Rules 2.. are as they were written; rule 1 is one of the replacements.
        expect(labels.slice(1).map((l) => l.comment)).toEqual(rules.slice(1).map((_, k) => `r${k + 2}`));
        expect(['', 'r1']).toContain(labels[0]!.comment);
      }
    } finally {
      m.close();
      process.kill(-busy.pid!, 'SIGKILL');
    }
  });

  it('a table that is absent, then made, is a failed scrape, then a good one', async () => {
    const s = ns();
    s.ipt('-L -n');
    const m = new CounterMetrics({ tables: ['filter', 'nat'], families: ['ipv4'], netns: s.ns });
    try {
      const a = await m.collect();
      expect(a.success).toBe(false);
      expect(a.errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_IPTC_ABSENT']);
      const text = m.format(a, 'prometheus');
      expect(text).toContain('iptc_scrape_success 0\n');
      expect(text).toContain('iptc_table_scrape_success{family="ipv4",table="nat"} 0\n');
      expect(text).toContain('iptc_table_scrape_success{family="ipv4",table="filter"} 1\n');
      // Reading never made the table.
      expect(s.sh('cat /proc/net/ip_tables_names').split('\n')).not.toContain('nat');
      s.ipt('-t nat -A POSTROUTING -j RETURN');
      const b = await m.collect();
      expect(b.success).toBe(true);
      expect(parseExposition(m.format(b)).find((x) => x.name === 'iptc_rule_packets_total' && x.labels.table === 'nat')!.labels.chain).toBe('POSTROUTING');
    } finally {
      m.close();
    }
  });

  it('a namespace given by name: gone is a failed scrape; made again, it is read afresh', async () => {
    const name = `iptc-metrics-${randomBytes(4).toString('hex')}`;
    const ip = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
    const m = new CounterMetrics({ tables: ['filter'], families: ['ipv4'], netns: name });
    try {
      expect(ip(`ip netns add ${name} && ip netns exec ${name} iptables-legacy -A INPUT -j ACCEPT`).status).toBe(0);
      expect(rulesOf(parseExposition(await m.scrape()), 'iptc_table_rules')[0]!.value).toBe('1');
      ip(`ip netns del ${name}`);
      const gone = m.collectSync();
      expect(gone.success).toBe(false);
      expect(gone.errors[0]!.message).toMatch(/gone/);
      expect(m.format(gone)).toContain('iptc_scrape_success 0\n');
      expect(ip(`ip netns add ${name} && ip netns exec ${name} sh -c 'iptables-legacy -A INPUT -j ACCEPT; iptables-legacy -A INPUT -j DROP'`).status).toBe(0);
      expect(rulesOf(parseExposition(await m.scrape()), 'iptc_table_rules')[0]!.value).toBe('2');
    } finally {
      m.close();
      ip(`ip netns del ${name} 2>/dev/null`);
    }
  });

  it('reads iptables-nft tables too: counters and labels as iptables-nft-save -c prints them, both families', async () => {
    const s = ns();
    for (const family of ['ipv4', 'ipv6'] as const) {
      // (Restore text is line by line: the comment with a line feed cannot go in this way.)
      const rules = awkwardComments.filter((c) => !c.includes('\n')).map((c, i) => `[${i + 1}:${100 * (i + 1)}] -A INPUT -p udp -m udp --dport ${i + 1} -m comment --comment "${c.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}" -j ACCEPT`);
      s.sh(`${nftTool(family, '-restore')} -c`, `*filter\n:INPUT ACCEPT [7:700]\n:X - [0:0]\n${rules.join('\n')}\n[3:30] -A INPUT -j X\n-A X -j RETURN\nCOMMIT\n`);
    }
    const m = new CounterMetrics({ tables: ['filter'], netns: s.ns, backend: 'nft' });
    try {
      const samples = parseExposition(await m.scrape());
      for (const family of ['ipv4', 'ipv6'] as const) {
        const oracle = oracleRules(stripComments(s.sh(`${nftTool(family, '-save')} -c -t filter`)));
        const mine = (name: string) => samples.filter((x) => x.name === name && x.labels.family === family);
        expect(mine('iptc_rule_packets_total').map((x) => [x.labels.chain, x.labels.rule, x.labels.comment, x.labels.target, x.value])).toEqual(
          oracle.rules.map((r) => [r.chain, String(r.position), r.comment, r.target, r.packets]),
        );
        expect(mine('iptc_rule_bytes_total').map((x) => x.value)).toEqual(oracle.rules.map((r) => r.bytes));
        expect(mine('iptc_policy_packets_total').map((x) => [x.labels.chain, x.labels.policy, x.value])).toEqual(oracle.policies.map((p) => [p.chain, p.policy, p.packets]));
      }
    } finally {
      m.close();
    }
  });

  it('checks its arguments; negotiates the format from an Accept header', () => {
    expect(() => new CounterMetrics({ families: ['ipv5' as 'ipv4'] })).toThrow(/families/);
    // @ts-expect-error a name outside TableName, as a JavaScript caller may give it
    expect(() => new CounterMetrics({ tables: ['Bad!'] })).toThrow(/table name/);
    expect(() => metricsSync({ format: 'json' as 'prometheus' })).toThrow(/format/);
    expect(() => new CounterMetrics({ tabels: [] } as never)).toThrow(/unknown option 'tabels'/);
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics');
    expect(negotiateFormat('text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5')).toBe('prometheus');
    expect(negotiateFormat('*/*')).toBe('prometheus');
    expect(negotiateFormat(undefined)).toBe('prometheus');
  });
});
