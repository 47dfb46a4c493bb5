#!/usr/bin/env node
// npm run bench: iptc-node side by side with what users run today (the
// iptables-legacy tools, spawned and parsed) and with C floors (the raw
// kernel read; libiptc alone committing prepared entries), at 1,000, 10,000
// and 50,000 rules, in one run, in a scratch network namespace. Prints a
// table of medians and ratios and writes bench/RESULTS.md.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

// Run inside a fresh network namespace: the tools we spawn and the library
// then act on the same scratch tables, and nothing touches the host's.
if (!process.env.IPTC_BENCH_INSIDE) {
  const r = spawnSync('unshare', ['-n', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, IPTC_BENCH_INSIDE: '1', XTABLES_LOCKFILE: join(mkdtempSync(join(tmpdir(), 'iptc-bench-')), 'lock') },
  });
  process.exit(r.status ?? 1);
}

const { Table, CounterReader, restore } = await import('../dist/index.js');
const { native } = await import('../dist/native.js');
const run = promisify(execFile);

const SIZES = (process.env.IPTC_BENCH_SIZES ?? '1000,10000,50000').split(',').map(Number);
const quick = process.argv.includes('--quick');

// ---- the C floors ----------------------------------------------------------
const bin = mkdtempSync(join(tmpdir(), 'iptc-bench-bin-'));
execFileSync('cc', ['-O2', '-o', join(bin, 'raw_read'), join(here, 'raw_read.c')]);
execFileSync('cc', ['-O2', '-o', join(bin, 'libiptc_commit'), join(here, 'libiptc_commit.c'), '-lip4tc']);

// ---- rule shapes -----------------------------------------------------------
const src = (i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`;
const SHAPES = {
  // The shape DESIGN.md measured the floors with (about 488 bytes a rule).
  simple: {
    words: (i) => ['-s', src(i), '-p', 'tcp', '-m', 'tcp', '--dport', String(1 + (i % 65535)), '-m', 'comment', '--comment', `svc ${i}`, '-j', 'ACCEPT'],
    object: (i) => ({
      source: src(i),
      protocol: 'tcp',
      matches: [
        { name: 'tcp', options: { dport: 1 + (i % 65535) } },
        { name: 'comment', options: { comment: `svc ${i}` } },
      ],
      target: 'ACCEPT',
    }),
  },
  // Several matches a rule.
  multi: {
    words: (i) => ['-s', src(i), '-i', 'eth0', '-p', 'tcp', '-m', 'tcp', '--dport', String(1 + (i % 65535)), '-m', 'conntrack', '--ctstate', 'NEW,ESTABLISHED',
      '-m', 'multiport', '--sports', '1000:2000,3000', '-m', 'limit', '--limit', '100/sec', '-m', 'comment', '--comment', `svc ${i}`, '-j', 'ACCEPT'],
    object: (i) => ({
      source: src(i),
      inInterface: 'eth0',
      protocol: 'tcp',
      matches: [
        { name: 'tcp', options: { dport: 1 + (i % 65535) } },
        { name: 'conntrack', options: { ctstate: 'NEW,ESTABLISHED' } },
        { name: 'multiport', options: { sports: '1000:2000,3000' } },
        { name: 'limit', options: { limit: '100/sec' } },
        { name: 'comment', options: { comment: `svc ${i}` } },
      ],
      target: 'ACCEPT',
    }),
  },
};

const quote = (w) => (/[\s"\\]/.test(w) || w === '' ? `"${w.replace(/[\\"]/g, '\\$&')}"` : w);
const restoreText = (shape, n) => {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let i = 0; i < n; i++) lines.push(`-A INPUT ${SHAPES[shape].words(i).map(quote).join(' ')}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
};

// ---- timing ----------------------------------------------------------------
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
async function time(runs, fn, between) {
  const t = [];
  for (let i = 0; i < runs; i++) {
    if (between) await between();
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}
const runsFor = (n) => (quick ? 3 : n >= 50000 ? 5 : n >= 10000 ? 7 : 15);

const legacyRestore = (text) =>
  new Promise((resolve, reject) => {
    const p = spawn('iptables-legacy-restore', ['-w'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(err))));
    p.stdin.end(text);
  });
const empty = () => legacyRestore('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n');

// What monitoring does today: spawn iptables-save -c and parse its text.
async function spawnAndParseRules() {
  const { stdout } = await run('iptables-legacy-save', ['-c', '-t', 'filter'], { maxBuffer: 1 << 30 });
  const rules = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('[')) continue;
    const close = line.indexOf(']');
    const [p, b] = line.slice(1, close).split(':');
    const words = line.slice(close + 2).match(/"(?:[^"\\]|\\.)*"|\S+/g);
    rules.push({ chain: words[1], packets: BigInt(p), bytes: BigInt(b), spec: words.slice(2) });
  }
  return rules;
}
async function spawnAndParseCounters() {
  const { stdout } = await run('iptables-legacy-save', ['-c', '-t', 'filter'], { maxBuffer: 1 << 30 });
  const c = [];
  for (const m of stdout.matchAll(/^\[(\d+):(\d+)\]/gm)) c.push(BigInt(m[1]), BigInt(m[2]));
  return c;
}

const rows = [];
let stall;
let memory;
const row = (n, shape, op, ours, base, baseName, floor) => {
  rows.push({ n, shape, op, ours, base, baseName, floor });
  const f = (x) => (x === undefined ? '-' : x.toFixed(2));
  console.log(
    `${String(n).padStart(6)} ${shape.padEnd(7)} ${op.padEnd(34)} ours ${f(ours).padStart(9)} ms  ${baseName.padEnd(26)} ${f(base).padStart(9)} ms  x${(base / ours).toFixed(2).padStart(6)}` +
      (floor === undefined ? '' : `  floor ${f(floor).padStart(8)} ms  ours/floor ${(ours / floor).toFixed(2)}`),
  );
};

// ---- the runs ----------------------------------------------------------------
console.log(`iptc-node benchmarks: ${cpus().length} x ${cpus()[0]?.model}, Linux ${execFileSync('uname', ['-r']).toString().trim()}, Node ${process.version}`);
for (const n of SIZES) {
  for (const shape of Object.keys(SHAPES)) {
    if (shape === 'multi' && n > 10000 && quick) continue;
    const runs = runsFor(n);
    const text = restoreText(shape, n);
    await legacyRestore(text);

    // 1. whole table into rule objects
    const readObjects = async () => {
      const t = await Table.open('filter');
      let k = 0;
      for (const c of t.chains()) k += t.rules(c.name).length;
      if (k !== n) throw new Error(`read ${k} rules, expected ${n}`);
    };
    row(n, shape, 'read table into rule objects', await time(runs, readObjects), await time(runs, spawnAndParseRules), 'iptables-save -c + parse');
    // The same read, as text: what iptables-save itself does (no rule objects).
    row(n, shape, 'read table as iptables-save -c text', await time(runs, async () => (await Table.open('filter')).save({ counters: true })),
      await time(runs, () => run('iptables-legacy-save', ['-c', '-t', 'filter'], { maxBuffer: 1 << 30 })), 'iptables-save -c (spawned)');

    // 2. all counters
    const reader = new CounterReader('filter');
    const floorRead = Number(execFileSync(join(bin, 'raw_read'), ['filter', String(runs * 3)]).toString());
    const ours = await time(runs * 3, () => reader.read());
    row(n, shape, 'read all counters (async)', ours, await time(runs, spawnAndParseCounters), 'iptables-save -c + parse', floorRead);
    row(n, shape, 'read all counters (sync)', await time(runs * 3, () => reader.readSync()), await time(runs, spawnAndParseCounters), 'iptables-save -c + parse', floorRead);
    reader.close();

    // 4. one rule added to a table of n
    const one = ['-p', 'udp', '--dport', '9', '-j', 'ACCEPT'];
    const drop = async () => {
      const t = await Table.open('filter');
      if (t.rules('INPUT').length > n) {
        t.delete('INPUT', n + 1);
        await t.commit();
      }
    };
    row(
      n, shape, 'add one rule (open, append, commit)',
      await time(runs, async () => { const t = await Table.open('filter'); t.append('INPUT', one); await t.commit(); }, drop),
      await time(runs, () => run('iptables-legacy', ['-w', '-A', 'INPUT', ...one]), drop),
      'iptables -A (spawned)',
    );

    // 3. commit n new rules in one transaction, from an empty table
    const objects = Array.from({ length: n }, (_, i) => SHAPES[shape].object(i));
    const blobs = [];
    for (let i = 0; i < n; i++) blobs.push(native.encodeRule('ipv4', 'filter', SHAPES[shape].words(i), false).entries);
    const entriesFile = join(bin, `entries-${shape}-${n}`);
    writeFileSync(entriesFile, Buffer.concat(blobs));
    const floorCommit = Number(execFileSync(join(bin, 'libiptc_commit'), [entriesFile, String(runs)]).toString());
    const fromObjects = await time(runs, async () => {
      const t = await Table.open('filter');
      for (const o of objects) t.append('INPUT', o);
      await t.commit();
    }, empty);
    const legacy = await time(runs, () => legacyRestore(text), empty);
    row(n, shape, `commit ${n} rules from rule objects`, fromObjects, legacy, 'iptables-restore (spawned)', floorCommit);
    row(n, shape, `commit ${n} rules from restore text`, await time(runs, () => restore(text), empty), legacy, 'iptables-restore (spawned)', floorCommit);
  }
}

// 5. the event loop during an async commit of 50,000 rules: the longest gap
// between 1 ms timer ticks. Measured twice: straight after building the
// snapshot, and after a full GC first (so a collection of the garbage the
// earlier phases left does not count against the commit).
{
  const n = Math.max(...SIZES);
  stall = [];
  for (const collectFirst of [false, true]) {
    await empty();
    const t = await Table.open('filter');
    for (let i = 0; i < n; i++) t.append('INPUT', SHAPES.simple.words(i));
    if (collectFirst) global.gc?.();
    const h = monitorEventLoopDelay({ resolution: 1 });
    let last = performance.now();
    let worst = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 1);
    h.enable();
    const t0 = performance.now();
    await t.commit();
    const took = performance.now() - t0;
    h.disable();
    clearInterval(tick);
    stall.push({ n, took, worstGap: worst, maxDelay: h.max / 1e6, collectFirst });
    console.log(`event loop during an async commit of ${n} rules${collectFirst ? ' (after a full GC)' : ''} (${took.toFixed(0)} ms): longest gap between 1 ms ticks ${worst.toFixed(2)} ms, monitorEventLoopDelay max ${(h.max / 1e6).toFixed(2)} ms`);
  }
}

// 6. memory over 200,000 counter reads of a 1,000-rule table
{
  await legacyRestore(restoreText('simple', 1000));
  const reader = new CounterReader('filter');
  const total = quick ? 20000 : 200000;
  let after1k = 0;
  const t0 = performance.now();
  for (let i = 1; i <= total; i++) {
    await reader.read();
    if (i === 1000) {
      global.gc?.();
      after1k = process.memoryUsage().rss;
    }
  }
  global.gc?.();
  const end = process.memoryUsage().rss;
  reader.close();
  memory = { total, after1k, end, seconds: (performance.now() - t0) / 1000 };
  console.log(`rss after 1,000 reads ${(after1k / 2 ** 20).toFixed(1)} MB, after ${total} reads ${(end / 2 ** 20).toFixed(1)} MB (${memory.seconds.toFixed(1)} s, ${(total / memory.seconds).toFixed(0)} reads/s)`);
}

// ---- RESULTS.md ----------------------------------------------------------------
const ver = (cmd, args) => {
  try {
    return execFileSync(cmd, args).toString().trim().split('\n')[0];
  } catch {
    return '?';
  }
};
const f = (x) => (x === undefined ? '-' : x.toFixed(2));
const md = [
  '# Benchmark results',
  '',
  `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} x ${cpus()[0]?.model}, ` +
    `${(Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)[1]) / 2 ** 20).toFixed(0)} GiB, Linux ${ver('uname', ['-r'])}, ` +
    `Node ${process.version}, ${ver('iptables-legacy', ['--version'])}. Medians; all in one run, in one scratch network namespace.`,
  '',
  '| rules | shape | operation | iptc-node ms | baseline | baseline ms | baseline / iptc-node | floor ms | iptc-node / floor |',
  '|---:|---|---|---:|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.n} | ${r.shape} | ${r.op} | ${f(r.ours)} | ${r.baseName} | ${f(r.base)} | ${(r.base / r.ours).toFixed(2)} | ${f(r.floor)} | ${r.floor === undefined ? '-' : (r.ours / r.floor).toFixed(2)} |`),
  '',
  ...stall.map((x) => `Event loop during an async commit of ${x.n} rules${x.collectFirst ? ', after a full GC' : ', straight after building the snapshot'} (${x.took.toFixed(0)} ms): longest gap between 1 ms timer ticks ${x.worstGap.toFixed(2)} ms; monitorEventLoopDelay max ${x.maxDelay.toFixed(2)} ms.`),
  '',
  `Resident memory over ${memory.total} async counter reads of a 1,000-rule table: ${(memory.after1k / 2 ** 20).toFixed(1)} MB after the first 1,000, ${(memory.end / 2 ** 20).toFixed(1)} MB at the end (${((memory.end - memory.after1k) / 2 ** 20).toFixed(1)} MB more; ${(memory.total / memory.seconds).toFixed(0)} reads/s).`,
  '',
  '## Targets',
  '',
  ...targets(),
  '',
  '## What the profiles show',
  '',
  '- Bulk commits from rule objects or restore text: every rule goes through libxtables\' own option parsing (getopt over the extensions\' merged option tables, the extensions\' parse and final checks), about 4 µs a rule here, the same work iptables-restore does; then the JavaScript side (rule words, records) and the commit itself (lock, a fresh read to check for conflicts, libiptc\'s append and commit). The libiptc floor gets its entries ready-made, so no parser can come near it; beating iptables-restore by 2x would need encoding common matches without libxtables, which the design rules out (every extension must parse exactly as iptables parses it).',
  '- Reading: the native read and print alone (libiptc\'s read plus every extension\'s save()) takes about 10 ms of CPU at 10,000 rules when measured by itself; the rest is JavaScript: splitting the printed fields, building each rule\'s spec string and record, and for rule objects some fifteen objects a rule (header, matches, options, target, bigint counters) and the garbage collection that follows. Even the text-only read (the iptables-save text row) loses to the spawned iptables-save at 10,000 rules and more, so that JavaScript layer is what to make leaner next (print spec text natively in one buffer, make rule objects lazily).',
  '- Event-loop stalls: the synchronous part of commit() takes 0.1-0.3 ms (its ops cross as a few large buffers; the work runs on a worker thread). Measured alone in a fresh process, the longest gap between 1 ms ticks during an async 50,000-rule commit was 1.4-5.7 ms; inside this benchmark process, which has built and dropped hundreds of MB of rule objects in the earlier phases, the gaps were 25-50 ms, a full GC before the commit did not remove them. They are the process\'s garbage collection and scheduling on a 2-core machine, not the commit\'s work, but the target as stated (in this run) is missed.',
  '',
  'Floors: `bench/raw_read.c` does only IPT_SO_GET_INFO + IPT_SO_GET_ENTRIES; `bench/libiptc_commit.c` only appends prepared entries with libiptc and commits (iptc_init to the end of iptc_commit). Baselines are spawned as users spawn them today, their output parsed in Node.',
  '',
];
if (!quick) writeFileSync(join(here, 'RESULTS.md'), md.join('\n'));

/** Each target of the benchmark issue, met or missed, from this run's rows. */
function targets() {
  const get = (n, shape, op) => rows.find((r) => r.n === n && r.shape === shape && r.op === op);
  const out = [];
  const mark = (ok) => (ok ? 'met' : '**missed**');
  for (const n of [10000, 50000].filter((x) => SIZES.includes(x))) {
    for (const shape of ['simple', 'multi']) {
      const c = get(n, shape, 'read all counters (async)');
      if (c) {
        out.push(`- ${n} ${shape}, counters read within 1.25x of the raw-read floor: ${(c.ours / c.floor).toFixed(2)}x, ${mark(c.ours / c.floor <= 1.25)}; at least 3x faster than spawn-and-parse: ${(c.base / c.ours).toFixed(2)}x, ${mark(c.base / c.ours >= 3)}.`);
      }
      const b = get(n, shape, `commit ${n} rules from rule objects`);
      if (b) {
        out.push(`- ${n} ${shape}, bulk commit from rule objects at least 2x faster than iptables-restore: ${(b.base / b.ours).toFixed(2)}x, ${mark(b.base / b.ours >= 2)}; within 1.5x of the libiptc floor: ${(b.ours / b.floor).toFixed(2)}x, ${mark(b.ours / b.floor <= 1.5)}.`);
      }
      const r = get(n, shape, 'read table into rule objects');
      if (r) out.push(`- ${n} ${shape}, whole-table read into objects at least 2x faster than spawn-and-parse: ${(r.base / r.ours).toFixed(2)}x, ${mark(r.base / r.ours >= 2)}.`);
    }
  }
  for (const x of stall) out.push(`- event-loop stall during an async ${x.n}-rule commit${x.collectFirst ? ' (after a full GC)' : ''} under 10 ms: ${x.worstGap.toFixed(1)} ms, ${mark(x.worstGap < 10)}.`);
  const grew = (memory.end - memory.after1k) / 2 ** 20;
  out.push(`- resident memory after ${memory.total} counter reads within 10 MB of after the first 1,000: ${grew.toFixed(1)} MB, ${mark(grew <= 10)}.`);
  return out;
}
