#!/usr/bin/env node
// npm run bench: iptc-node side by side with what programs run today (the
// iptables-legacy and iptables-nft tools, spawned and parsed) and with C
// floors (bench/*.c),
// at 10,000 and 50,000 rules of two shapes, in one run, in a scratch network
// namespace; node itself runs inside it, so neither side pays a wrapper.
// Prints medians and ratios and writes bench/RESULTS.md with each target of
// the performance issue, met or missed. --quick: fewer runs, no RESULTS.md.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

// Run inside a fresh network namespace: the tools we spawn and the library
// then act on the same scratch tables, and nothing touches the host's.
if (!process.env.IPTC_BENCH_INSIDE) {
  const r = spawnSync('unshare', ['-n', process.execPath, '--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, IPTC_BENCH_INSIDE: '1', XTABLES_LOCKFILE: join(mkdtempSync(join(tmpdir(), 'iptc-bench-')), 'lock') },
  });
  process.exit(r.status ?? 1);
}

const { Table, CounterReader, restore } = await import('../dist/index.js');
const { EMPTY, SHAPES, restoreText, spreadText } = await import('./shapes.mjs');
const T = await import('./tools.mjs');

const quick = process.argv.includes('--quick');
const SIZES = (process.env.IPTC_BENCH_SIZES ?? '10000,50000').split(',').map(Number);
const runsFor = (n) => (quick ? 3 : n >= 50000 ? 5 : 9);
const floors = T.buildFloors(here);

const rows = [];
const f2 = (x) => (x === undefined ? '-' : x.toFixed(2));
function row(n, shape, op, ours, base, baseName, floor) {
  rows.push({ n, shape, op, ours, base, baseName, floor });
  console.log(
    `${String(n).padStart(6)} ${shape.padEnd(7)} ${op.padEnd(38)} ours ${f2(ours).padStart(8)} ms  ${baseName.padEnd(28)} ${f2(base).padStart(8)} ms  x${(base / ours).toFixed(2).padStart(5)}` +
      (floor === undefined ? '' : `  floor ${f2(floor).padStart(8)} ms  ours/floor ${(ours / floor).toFixed(2)}`),
  );
}

console.log(`iptc-node benchmarks: ${cpus().length} x ${cpus()[0]?.model}, Linux ${execFileSync('uname', ['-r']).toString().trim()}, Node ${process.version}`);
for (const n of SIZES) {
  for (const shape of Object.keys(SHAPES)) {
    const runs = runsFor(n);
    const S = SHAPES[shape];
    let tag = 0;
    const fresh = () => restoreText(shape, n, ` r${tag++}`);
    const empty = () => T.legacyRestore(EMPTY);

    // Whole-table restore of rules never seen before (every run new comments).
    let text;
    const newText = async () => { text = fresh(); await empty(); };
    const tool = await T.time(runs, () => T.legacyRestore(text), newText);
    row(n, shape, 'restore text (new rules)', await T.time(runs, () => restore(text), newText), tool, 'iptables-legacy-restore');

    // The same rules as rule objects: open, append each, commit.
    let objects;
    row(n, shape, 'commit rule objects (new rules)', await T.time(runs, async () => {
      const t = await Table.open('filter');
      for (const o of objects) t.append('INPUT', o);
      await t.commit();
    }, async () => { const k = tag++; objects = Array.from({ length: n }, (_, i) => S.object(i, ` o${k}`)); await empty(); }), tool, 'iptables-legacy-restore');

    // Steady state: the text the table already holds, again.
    const same = fresh();
    await restore(same);
    const again = await T.time(runs, () => restore(same));
    row(n, shape, 're-restore text already committed', again, await T.time(runs, () => T.legacyRestore(same)), 'iptables-legacy-restore');

    // One rule: add, replace, delete (read under the lock, change, commit), as iptables -A/-R/-D.
    const one = ['-p', 'udp', '-m', 'udp', '--dport', '9', '-j', 'ACCEPT'];
    const other = ['-p', 'udp', '-m', 'udp', '--dport', '10', '-j', 'ACCEPT'];
    const dropLast = async () => Table.update('filter', {}, (t) => { if (t.chain('INPUT').length > n) t.delete('INPUT', n + 1); });
    const addOne = async () => Table.update('filter', {}, (t) => { if (t.chain('INPUT').length === n) t.append('INPUT', one); });
    row(n, shape, 'add one rule (update: append)', await T.time(runs, () => Table.update('filter', {}, (t) => t.append('INPUT', one)), dropLast),
      await T.time(runs, () => T.legacy(['-A', 'INPUT', ...one]), dropLast), 'iptables -A', floors.oneRule('append', runs));
    row(n, shape, 'add one rule (open, append, commit)', await T.time(runs, async () => { const t = await Table.open('filter'); t.append('INPUT', one); await t.commit(); }, dropLast),
      await T.time(runs, () => T.legacy(['-A', 'INPUT', ...one]), dropLast), 'iptables -A', floors.oneRule('append', runs));
    await addOne();
    row(n, shape, 'replace one rule (update: replace)', await T.time(runs, (i) => Table.update('filter', {}, (t) => t.replace('INPUT', n + 1, i % 2 ? one : other))),
      await T.time(runs, (i) => T.legacy(['-R', 'INPUT', String(n + 1), ...(i % 2 ? one : other)])), 'iptables -R');
    row(n, shape, 'delete one rule (update: delete)', await T.time(runs, () => Table.update('filter', {}, (t) => t.delete('INPUT', n + 1)), addOne),
      await T.time(runs, () => T.legacy(['-D', 'INPUT', String(n + 1)]), addOne), 'iptables -D', floors.oneRule('delete', runs));
    await dropLast();

    // Reading: as iptables-save text, as rule objects, counters only.
    row(n, shape, 'read as iptables-save -c text', await T.time(runs, async () => (await Table.open('filter')).save({ counters: true })),
      await T.time(runs, T.legacySave), 'iptables-save -c (spawned)');
    row(n, shape, 'read into rule objects, every chain', await T.time(runs, async () => {
      const t = await Table.open('filter');
      let k = 0;
      for (const c of t.chains()) k += t.rules(c.name).length;
      if (k !== n) throw new Error(`read ${k} rules, expected ${n}`);
    }), await T.time(runs, T.spawnAndParseRules), 'iptables-save -c + parse');
    const reader = new CounterReader('filter');
    row(n, shape, 'read all counters (CounterReader)', await T.time(runs * 3, () => reader.read()),
      await T.time(runs, T.spawnAndParseCounters), 'iptables-save -c + parse', floors.read(runs * 3));
    reader.close();

    // nf_tables: the same rules loaded by iptables-nft-restore, read back as
    // iptables-nft-save prints them, as rule objects, counters only.
    await empty();
    await T.nftFlush();
    await T.nftRestore(fresh());
    const nft = { backend: 'nft' };
    row(n, shape, 'nft: read as iptables-nft-save -c text', await T.time(runs, async () => (await Table.open('filter', nft)).save({ counters: true })),
      await T.time(runs, T.nftSave), 'iptables-nft-save -c (spawned)');
    row(n, shape, 'nft: rule objects, every chain', await T.time(runs, async () => {
      const t = await Table.open('filter', nft);
      let k = 0;
      for (const c of t.chains()) k += t.rules(c.name).length;
      if (k !== n) throw new Error(`read ${k} nft rules, expected ${n}`);
    }), await T.time(runs, T.nftSpawnAndParseRules), 'iptables-nft-save -c + parse');
    // (Each read is one rule dump, which the kernel makes cost O(rules²): runs, not runs * 3.)
    const nftReader = new CounterReader('filter', nft);
    const first = await nftReader.read(); // lays the table out; later reads only dump the rules
    const slots = first.layout.chains.reduce((k, c) => k + c.count, 0);
    if (slots !== n) throw new Error(`CounterReader saw ${slots} nft rules, expected ${n}`);
    row(n, shape, 'nft: counters (CounterReader)', await T.time(runs, () => nftReader.read()),
      await T.time(runs, T.nftSpawnAndParseCounters), 'iptables-nft-save -c + parse', floors.nftDump(runs, n));
    nftReader.close();

    // Writing nf_tables: a whole table of new rules, and one rule added,
    // deleted, inserted (Table.update; "known": this process made the last
    // change, so the table needs no dump; "after another's change": the
    // generation moved, so it is dumped first).
    const nftText = async () => { text = fresh(); await T.nftFlush(); };
    row(n, shape, 'nft: restore text (new rules)', await T.time(runs, () => restore(text, nft), nftText),
      await T.time(runs, () => T.nftRestore(text), nftText), 'iptables-nft-restore');
    await T.nftFlush();
    await T.nftRestore(fresh());
    const nftDropLast = () => Table.update('filter', nft, (t) => { if (t.chain('INPUT').length > n) t.delete('INPUT', n + 1); });
    const nftAddOne = () => Table.update('filter', nft, (t) => { if (t.chain('INPUT').length === n) t.append('INPUT', one); });
    const nftDropSecond = () => Table.update('filter', nft, (t) => { if (t.chain('INPUT').length > n) t.delete('INPUT', 2); });
    row(n, shape, 'nft: add one rule (update, known)', await T.time(runs, () => Table.update('filter', nft, (t) => t.append('INPUT', one)), nftDropLast),
      await T.time(runs, () => T.nft(['-A', 'INPUT', ...one]), nftDropLast), 'iptables-nft -A', floors.nftOneRule('append', runs));
    row(n, shape, 'nft: add one rule (update, after another\'s change)', await T.time(runs, () => Table.update('filter', nft, (t) => t.append('INPUT', one)), async () => { await nftDropLast(); await T.nftTouch(); }),
      await T.time(runs, () => T.nft(['-A', 'INPUT', ...one]), nftDropLast), 'iptables-nft -A');
    row(n, shape, 'nft: delete one rule (update, known)', await T.time(runs, () => Table.update('filter', nft, (t) => t.delete('INPUT', n + 1)), nftAddOne),
      await T.time(runs, () => T.nft(['-D', 'INPUT', String(n + 1)]), nftAddOne), 'iptables-nft -D', floors.nftOneRule('delete', runs));
    row(n, shape, 'nft: insert one rule at 2 (update, known)', await T.time(runs, () => Table.update('filter', nft, (t) => t.insert('INPUT', one, 2)), nftDropSecond),
      await T.time(runs, () => T.nft(['-I', 'INPUT', '2', ...one]), nftDropSecond), 'iptables-nft -I');
    await T.nftFlush();
  }
}

// ---- nf_tables: the kernel's dump cost and chain length ---------------------
// The C floor only: the same n rules in one chain, and spread over 100 user
// chains, read by one dump of the table (as iptc-node's nft reader does) and
// by one dump per chain (as iptables-nft-save does).
const nftChains = [];
for (const n of SIZES) {
  for (const chains of [1, 100]) {
    await T.nftFlush();
    await T.nftRestore(spreadText('simple', n, chains, ' spread'));
    const runs = runsFor(n);
    const s = { n, chains, table: floors.nftDump(runs, n), perChain: floors.nftDump(runs, n, 'per-chain') };
    nftChains.push(s);
    console.log(`${String(n).padStart(6)} nft rules in ${String(chains).padStart(3)} chain(s): one dump of the table ${f2(s.table).padStart(8)} ms, one dump per chain ${f2(s.perChain).padStart(8)} ms`);
  }
}
await T.nftFlush();

// ---- the event loop during O(table) calls ------------------------------------
const N = Math.max(...SIZES);
const stalls = [];
{
  const text = restoreText('simple', N, ' stall');
  const inProcess = async (op, prepare) => {
    const call = await prepare();
    global.gc?.();
    stalls.push({ op, where: 'bench process', ...(await T.stallDuring(call, monitorEventLoopDelay)) });
  };
  await inProcess(`await restore(${N} rules)`, async () => { await T.legacyRestore(EMPTY); return () => restore(text); });
  await inProcess(`await Table.open(${N} rules)`, async () => () => Table.open('filter'));
  await inProcess(`await table.commit() of ${N} appends`, async () => {
    await T.legacyRestore(EMPTY);
    const t = await Table.open('filter');
    for (let i = 0; i < N; i++) t.append('INPUT', SHAPES.simple.words(i, ' c'));
    return () => t.commit();
  });
  await inProcess(`await table.validate() of ${N} rules`, async () => { const t = await Table.open('filter'); return () => t.validate(); });
  for (const op of ['restore', 'open', 'commit', 'validate']) {
    const r = spawnSync(process.execPath, [join(here, 'stall.mjs'), op, String(N)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`stall.mjs ${op}: ${r.stderr}`);
    stalls.push({ op: `${op} (${N} rules)`, where: 'fresh process', ...JSON.parse(r.stdout) });
  }
  for (const s of stalls) console.log(`event loop, ${s.where}, ${s.op} (${s.took.toFixed(0)} ms): longest gap ${s.worstGap.toFixed(2)} ms, monitorEventLoopDelay max ${s.maxDelay.toFixed(2)} ms`);
}

// ---- memory ----------------------------------------------------------------------
let snapshotMemory;
let rssCycles;
{
  await T.legacyRestore(restoreText('simple', N, ' mem'));
  global.gc();
  const m0 = process.memoryUsage();
  const t = await Table.open('filter');
  global.gc();
  const m1 = process.memoryUsage();
  const blob = N * 488; // what GET_ENTRIES hands over, about
  snapshotMemory = { rules: N, grew: m1.heapUsed + m1.external - m0.heapUsed - m0.external, blob, chains: t.chains().length };
  console.log(`an opened ${N}-rule snapshot: heap + external grew ${(snapshotMemory.grew / 2 ** 20).toFixed(1)} MB for a ${(blob / 2 ** 20).toFixed(1)} MB table`);

  await T.legacyRestore(restoreText('simple', 100, ' cycles'));
  const cycles = quick ? 2000 : 10000;
  let after1k = 0;
  for (let i = 1; i <= cycles; i++) {
    const x = await Table.open('filter');
    x.zero('INPUT', 1);
    await x.commit();
    if (i === 1000) {
      global.gc();
      after1k = process.memoryUsage().rss;
    }
  }
  global.gc();
  rssCycles = { cycles, after1k, end: process.memoryUsage().rss };
  console.log(`rss after 1,000 open/commit cycles ${(after1k / 2 ** 20).toFixed(1)} MB, after ${cycles} ${(rssCycles.end / 2 ** 20).toFixed(1)} MB`);
}

const measured = { rows, stalls, snapshotMemory, rssCycles, SIZES, nftChains };
// IPTC_BENCH_DATA=file keeps the figures, so the report can be written again
// after its notes change: node bench/report.mjs file
if (process.env.IPTC_BENCH_DATA) writeFileSync(process.env.IPTC_BENCH_DATA, JSON.stringify(measured));
if (!quick) writeFileSync(join(here, 'RESULTS.md'), (await import('./report.mjs')).report(measured));

// Counters as a service (scrapes, the exporter over HTTP, watch): bench/metrics.mjs,
// in this same namespace, adding its own section to RESULTS.md.
const metricsRun = spawnSync(process.execPath, ['--expose-gc', join(here, 'metrics.mjs'), ...process.argv.slice(2)], { stdio: 'inherit' });
if (metricsRun.status !== 0) process.exitCode = metricsRun.status ?? 1;
