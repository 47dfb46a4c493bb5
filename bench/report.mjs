// bench/RESULTS.md from one run of bench/run.mjs: the table of medians, each
// target of the performance issue (met or missed, with the figure), and what
// the profiles show about the time that remains.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { NFT_NOTES, NOTES } from './notes.mjs';

const ver = (cmd, args) => {
  try {
    return execFileSync(cmd, args).toString().trim().split('\n')[0];
  } catch {
    return '?';
  }
};
const f = (x) => (x === undefined ? '-' : x.toFixed(2));
const mark = (ok) => (ok ? 'met' : '**missed**');
const mb = (x) => (x / 2 ** 20).toFixed(1);

export function report({ rows, stalls, snapshotMemory, rssCycles, SIZES, nftChains = [] }) {
  const get = (n, shape, op) => rows.find((r) => r.n === n && r.shape === shape && r.op === op);
  const targets = [];
  const ratio = (op, want, label) => {
    for (const n of [10000, 50000].filter((x) => SIZES.includes(x))) {
      for (const shape of ['simple', 'multi']) {
        const r = get(n, shape, op);
        if (r) targets.push(`- ${label}, ${n} ${shape}: ${(r.base / r.ours).toFixed(2)}x (${f(r.ours)} vs ${f(r.base)} ms), ${mark(r.base / r.ours >= want)}.`);
      }
    }
  };
  const floor = (op, within, label) => {
    for (const n of [10000, 50000].filter((x) => SIZES.includes(x))) {
      for (const shape of ['simple', 'multi']) {
        const r = get(n, shape, op);
        if (r?.floor !== undefined) targets.push(`- ${label}, ${n} ${shape}: ${(r.ours / r.floor).toFixed(2)}x the floor (${f(r.ours)} vs ${f(r.floor)} ms), ${mark(r.ours / r.floor <= within)}.`);
      }
    }
  };
  ratio('restore text (new rules)', 2, 'restore text ≥ 2x faster than iptables-legacy-restore');
  ratio('commit rule objects (new rules)', 2, 'commit rule objects ≥ 2x faster than iptables-legacy-restore');
  ratio('re-restore text already committed', 3.5, 're-restore of committed text ≥ 3.5x faster than iptables-legacy-restore');
  ratio('add one rule (update: append)', 1.3, 'add one rule ≥ 1.3x faster than iptables -A');
  floor('add one rule (update: append)', 1.3, 'add one rule within 1.3x of the floor');
  ratio('replace one rule (update: replace)', 1.3, 'replace one rule ≥ 1.3x faster than iptables -R');
  ratio('delete one rule (update: delete)', 1.3, 'delete one rule ≥ 1.3x faster than iptables -D');
  floor('delete one rule (update: delete)', 1.3, 'delete one rule within 1.3x of the floor');
  ratio('read as iptables-save -c text', 1.5, 'read as iptables-save text ≥ 1.5x faster than iptables-legacy-save');
  ratio('read into rule objects, every chain', 2, 'read into rule objects ≥ 2x faster than spawn + parse');
  floor('read all counters (CounterReader)', 1.25, 'counters within 1.25x of the raw read');
  ratio('nft: read as iptables-nft-save -c text', 1.5, 'nf_tables: read as save text ≥ 1.5x faster than iptables-nft-save');
  ratio('nft: rule objects, every chain', 2, 'nf_tables: rule objects ≥ 2x faster than spawn + parse of iptables-nft-save');
  ratio('nft: counters (CounterReader)', 3, 'nf_tables: counters ≥ 3x faster than iptables-nft-save -c + parse');
  floor('nft: counters (CounterReader)', 1.25, 'nf_tables: counters within 1.25x of the rule dump alone');
  ratio('nft: restore text (new rules)', 1.5, 'nf_tables: whole-table restore ≥ 1.5x faster than iptables-nft-restore');
  ratio('nft: add one rule (update, known)', 1.3, 'nf_tables: add one rule ≥ 1.3x faster than iptables-nft -A');
  ratio("nft: add one rule (update, after another's change)", 1.3, "nf_tables: add one rule after another program's change ≥ 1.3x faster than iptables-nft -A");
  ratio('nft: delete one rule (update, known)', 10, 'nf_tables: delete one rule by position ≥ 10x faster than iptables-nft -D');
  ratio('nft: insert one rule at 2 (update, known)', 10, 'nf_tables: insert one rule by position ≥ 10x faster than iptables-nft -I');
  for (const s of stalls) targets.push(`- event loop during ${s.op} (${s.where}, ${s.took.toFixed(0)} ms): longest stall ${s.worstGap.toFixed(1)} ms, ${mark(s.worstGap <= 10)}.`);
  const m = snapshotMemory;
  targets.push(`- an opened ${m.rules}-rule snapshot holds at most 2x its kernel blob in heap + external memory: ${mb(m.grew)} MB for ${mb(m.blob)} MB (${(m.grew / m.blob).toFixed(2)}x), ${mark(m.grew <= 2 * m.blob)}.`);
  const grew = rssCycles.end - rssCycles.after1k;
  targets.push(`- resident memory flat over ${rssCycles.cycles} open/commit cycles: ${mb(rssCycles.after1k)} MB after 1,000, ${mb(rssCycles.end)} MB at the end (${mb(grew)} MB more), ${mark(grew <= 10 * 2 ** 20)}.`);
  if (SIZES.includes(10000) && SIZES.includes(50000)) {
    const scale = [];
    const legacyRows = rows.filter((x) => x.n === 50000 && !x.op.startsWith('nft:'));
    for (const r of legacyRows) {
      const small = get(10000, r.shape, r.op);
      if (small) scale.push(`${r.op} (${r.shape}) ${(r.ours / small.ours).toFixed(1)}x`);
    }
    const worst = Math.max(...legacyRows.map((r) => r.ours / get(10000, r.shape, r.op).ours));
    targets.push(`- scaling 10,000 → 50,000 about 5x, no superlinear term (legacy tables): worst ${worst.toFixed(1)}x, ${mark(worst <= 6.5)}. (${scale.join('; ')})`);
  }
  const mem = (Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)[1]) / 2 ** 20).toFixed(0);
  return [
    '# Benchmark results',
    '',
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} x ${cpus()[0]?.model}, ${mem} GiB, ` +
      `Linux ${ver('uname', ['-r'])}, Node ${process.version}, ${ver('iptables-legacy', ['--version'])}. Medians; all in one run, ` +
      'in one scratch network namespace, node running inside it. "New rules" runs use rules no earlier run parsed (a new comment each run).',
    '',
    '| rules | shape | operation | iptc-node ms | baseline | baseline ms | baseline / iptc-node | floor ms | iptc-node / floor |',
    '|---:|---|---|---:|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.n} | ${r.shape} | ${r.op} | ${f(r.ours)} | ${r.baseName} | ${f(r.base)} | ${(r.base / r.ours).toFixed(2)} | ${f(r.floor)} | ${r.floor === undefined ? '-' : (r.ours / r.floor).toFixed(2)} |`),
    '',
    '## Targets',
    '',
    ...targets,
    '',
    ...(nftChains.length
      ? [
          '## nf_tables: the dump and chain length',
          '',
          'The C floor alone (`bench/nft_dump.c`), the same rules in one chain and spread over 100 user chains, read by one rule dump of the table (as iptc-node reads) and by a chain dump plus one rule dump per chain (as iptables-nft-save reads):',
          '',
          '| rules | chains | one dump of the table ms | one dump per chain ms |',
          '|---:|---:|---:|---:|',
          ...nftChains.map((c) => `| ${c.n} | ${c.chains} | ${f(c.table)} | ${f(c.perChain)} |`),
          '',
          ...NFT_NOTES,
          '',
        ]
      : []),
    '## What the profiles show',
    '',
    ...NOTES,
    '',
    'Floors: `bench/raw_read.c` does only IPT_SO_GET_INFO + IPT_SO_GET_ENTRIES; `bench/one_rule.c` reads the table, splices one rule in (or out) of the blob, and does SET_REPLACE + SET_ADD_COUNTERS. Baselines are spawned as programs spawn them today, their output parsed in Node where a program would parse it.',
    '',
  ].join('\n');
}

// node bench/report.mjs FILE: RESULTS.md again from figures kept by IPTC_BENCH_DATA.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFileSync } = await import('node:fs');
  const data = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  writeFileSync(new URL('./RESULTS.md', import.meta.url), report(data));
}
