#!/usr/bin/env node
// The counters-as-a-service benchmarks (issue 14), side by side in one run,
// in a scratch network namespace (node runs inside it):
//  - one scrape of a 10,000 and a 50,000 rule table as OpenMetrics bytes,
//    against what exporters do today (spawn iptables-legacy-save -c, parse
//    it, write the same exposition) and against the floor (the C raw read of
//    the table's counters, bench/raw_read.c, plus writing as many bytes);
//  - `iptc exporter` scraped 10 times a second over HTTP for 60 s: its CPU,
//    its resident memory, every scrape's latency;
//  - watch() on an unchanged 50,000-rule table polled at 10 Hz: CPU, and each
//    poll's read against the raw read.
// Run by `npm run bench` after run.mjs (its own section of RESULTS.md), or
// alone: node bench/metrics.mjs [--quick] (--quick: 10 s instead of 60, no
// RESULTS.md).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
if (!process.env.IPTC_BENCH_INSIDE) {
  const r = spawnSync('unshare', ['-n', process.execPath, '--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, IPTC_BENCH_INSIDE: '1', XTABLES_LOCKFILE: join(mkdtempSync(join(tmpdir(), 'iptc-bench-')), 'lock') },
  });
  process.exit(r.status ?? 1);
}

const { CounterMetrics, CounterReader, watch, escapeLabelValue } = await import('../dist/index.js');
const { restoreText } = await import('./shapes.mjs');
const T = await import('./tools.mjs');

// The HTTP client and the exporter talk over this namespace's loopback.
spawnSync('ip', ['link', 'set', 'lo', 'up'], { stdio: 'inherit' });
const quick = process.argv.includes('--quick');
const SIZES = (process.env.IPTC_BENCH_SIZES ?? '10000,50000').split(',').map(Number);
const SUSTAIN_S = Number(process.env.IPTC_BENCH_SUSTAIN_S ?? (quick ? 10 : 60));
const WATCH_S = quick ? 5 : 20;
const runsFor = (n) => (quick ? 3 : n >= 50000 ? 7 : 11);
const floors = T.buildFloors(here);
const devnull = openSync('/dev/null', 'w');
const f2 = (x) => x.toFixed(2);

// ---- what exporters do today: spawn, parse, write the exposition, every scrape ----
function exposition(save) {
  const head = (n, h) => `# HELP ${n} ${h}\n# TYPE ${n} counter\n`;
  const rules = [];
  const policies = [];
  const pos = new Map();
  for (const line of save.split('\n')) {
    if (line.startsWith(':')) {
      const m = /^:(\S+) (\S+) \[(\d+):(\d+)\]/.exec(line);
      if (m && m[2] !== '-') policies.push(m);
      continue;
    }
    if (!line.startsWith('[')) continue;
    const close = line.indexOf(']');
    const [p, b] = line.slice(1, close).split(':');
    const words = line.slice(close + 2).match(/"(?:[^"\\]|\\.)*"|\S+/g);
    const chain = words[1];
    const n = (pos.get(chain) ?? 0) + 1;
    pos.set(chain, n);
    let target = '';
    let comment = '';
    for (let i = 2; i < words.length; i++) {
      if (words[i] === '-j' || words[i] === '-g') target = words[i + 1];
      else if (words[i] === '--comment') comment = words[i + 1].replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1');
    }
    // (No stable key: no exporter of this kind has one; the label stays empty.)
    rules.push({ labels: `{family="ipv4",table="filter",chain="${chain}",rule="${n}",key="",comment="${escapeLabelValue(comment)}",target="${escapeLabelValue(target)}"}`, p, b });
  }
  let out = head('iptc_rule_packets', 'Packets matched by each rule.');
  for (const r of rules) out += `iptc_rule_packets_total${r.labels} ${r.p}\n`;
  out += head('iptc_rule_bytes', 'Bytes matched by each rule.');
  for (const r of rules) out += `iptc_rule_bytes_total${r.labels} ${r.b}\n`;
  out += head('iptc_policy_packets', 'Policy packets.');
  for (const m of policies) out += `iptc_policy_packets_total{family="ipv4",table="filter",chain="${m[1]}",policy="${m[2]}"} ${m[3]}\n`;
  out += head('iptc_policy_bytes', 'Policy bytes.');
  for (const m of policies) out += `iptc_policy_bytes_total{family="ipv4",table="filter",chain="${m[1]}",policy="${m[2]}"} ${m[4]}\n`;
  return `${out}# EOF\n`;
}

const results = { scrape: [], sustained: undefined, watch: undefined, load: undefined, cpus: cpus().length };
// The machine may be shared: its load when the run starts goes with the figures.
const load = (results.load = loadavg());
console.log(`iptc-node metrics benchmarks: ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version}, load average ${load.map((x) => x.toFixed(2)).join(' ')}`);

for (const n of SIZES) {
  await T.legacyRestore(restoreText('simple', n, ' metrics'));
  const runs = runsFor(n);
  const m = new CounterMetrics({ tables: ['filter'], families: ['ipv4'], backend: 'legacy' });
  const first = await m.scrape(); // builds the labels once, as the first scrape of an exporter does
  const bytes = Buffer.byteLength(first);
  // Warm, as a running exporter is (the writing loop compiled), and the garbage
  // of that first full read collected now, not in the scrapes timed next.
  for (let i = 0; i < 10; i++) writeSync(devnull, m.formatBuffer(await m.collect(), 'openmetrics', Buffer.allocUnsafe(bytes + 4096)));
  global.gc?.();
  // What iptc exporter does per scrape: read, write the exposition's bytes (into the
  // Buffer of the last response, once it is sent), send them.
  let spare;
  const ours = await T.time(runs, async () => {
    const out = m.formatBuffer(await m.collect(), 'openmetrics', spare);
    writeSync(devnull, out);
    spare = Buffer.from(out.buffer);
  });
  const asString = await T.time(runs, async () => writeSync(devnull, await m.scrape()));
  const spawned = await T.time(runs, async () => writeSync(devnull, exposition((await T.legacySave()).stdout)));
  const reader = new CounterReader('filter', { backend: 'legacy' });
  const readerMs = await T.time(runs * 3, () => reader.read());
  reader.close();
  const buf = Buffer.from(first);
  const writeMs = await T.time(runs * 3, () => writeSync(devnull, buf));
  const rawMs = floors.read(runs * 3);
  const floor = rawMs + writeMs;
  const labelMs = await T.time(3, async () => {
    // A new layout: the labels built again (one full read and decode of the table).
    const fresh = new CounterMetrics({ tables: ['filter'], families: ['ipv4'], backend: 'legacy' });
    await fresh.scrape();
    fresh.close();
  });
  m.close();
  const row = { n, bytes, ours, asString, spawned, readerMs, rawMs, writeMs, floor, labelMs };
  results.scrape.push(row);
  console.log(
    `${n} rules, ${(bytes / 2 ** 20).toFixed(1)} MB of OpenMetrics: scrape ${f2(ours)} ms; spawn iptables-legacy-save -c + parse + write ${f2(spawned)} ms (x${f2(spawned / ours)}); ` +
      `raw read ${f2(rawMs)} + write ${f2(writeMs)} ms (ours/floor ${f2(ours / floor)}); CounterReader.read ${f2(readerMs)} ms; scrape() as a string ${f2(asString)} ms; first scrape (labels) ${f2(labelMs)} ms`,
  );
}

// ---- iptc exporter under 10 scrapes a second, over HTTP ----------------------
{
  const n = Math.max(...SIZES);
  await T.legacyRestore(restoreText('simple', n, ' sustain'));
  // Loopback accepted first, as every firewall has it: otherwise each packet of the
  // scrapes themselves walks all n rules (and that, not the exporter, is what is measured).
  await T.legacy(['-I', 'INPUT', '1', '-i', 'lo', '-j', 'ACCEPT']);
  const exporter = spawn(process.execPath, [join(here, '../dist/cli/main.js'), 'exporter', '--listen', '127.0.0.1:0', '-4', '-t', 'filter', '--backend', 'legacy'], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.on('exit', () => exporter.exitCode === null && exporter.kill('SIGKILL'));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    exporter.stdout.on('data', (d) => {
      out += d;
      const m = /127\.0\.0\.1:(\d+)\/metrics/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    exporter.on('exit', (c) => reject(new Error(`exporter exited ${c}`)));
  });
  const get = () =>
    new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port, path: '/metrics', headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' } }, (res) => {
        let len = 0;
        res.on('data', (d) => (len += d.length));
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, len }));
      });
      req.on('error', reject);
      req.end();
    });
  const ticks = () => {
    const f = readFileSync(`/proc/${exporter.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks
  };
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${exporter.pid}/status`, 'utf8'))[1]) * 1024;
  await get(); // the first scrape builds the labels
  await get();
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  const lat = [];
  const mem = [];
  const c0 = ticks();
  const t0 = Date.now();
  let next = t0;
  while (Date.now() - t0 < SUSTAIN_S * 1000) {
    lat.push((await get()).ms);
    if (lat.length % 10 === 0) mem.push(rss());
    next += 100;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpu = (ticks() - c0) / hz / seconds;
  exporter.kill('SIGTERM');
  const code = await new Promise((r) => exporter.on('exit', r));
  const median = T.median(lat);
  results.sustained = { n, seconds, scrapes: lat.length, cpu, median, max: Math.max(...lat), rssMin: Math.min(...mem), rssMax: Math.max(...mem), exit: code };
  const s = results.sustained;
  console.log(
    `exporter, ${n} rules, ${s.scrapes} scrapes in ${f2(seconds)} s: CPU ${(100 * cpu).toFixed(1)} % of a core; scrape median ${f2(median)} ms, max ${f2(s.max)} ms (x${f2(s.max / median)}); ` +
      `RSS ${(s.rssMin / 2 ** 20).toFixed(1)}..${(s.rssMax / 2 ** 20).toFixed(1)} MB; exit ${code} on SIGTERM`,
  );
}

// ---- watch on an unchanged table, 10 Hz ---------------------------------------
{
  const n = Math.max(...SIZES);
  // (The table of the exporter run: unchanged from here on.)
  const ac = new AbortController();
  const u0 = process.cpuUsage();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), WATCH_S * 1000);
  let events = 0;
  for await (const _ of watch('filter', { backend: 'legacy', interval: 100, signal: ac.signal })) events++;
  const u = process.cpuUsage(u0);
  const seconds = (Date.now() - t0) / 1000;
  // Each poll of watch is one CounterReader read that finds the same layout: timed alone, at 10 Hz.
  const reader = new CounterReader('filter', { backend: 'legacy' });
  await reader.read();
  const polls = [];
  for (let i = 0; i < (quick ? 10 : 30); i++) {
    const p0 = process.hrtime.bigint();
    await reader.read();
    polls.push(Number(process.hrtime.bigint() - p0) / 1e6);
    await new Promise((r) => setTimeout(r, 100));
  }
  reader.close();
  const raw = floors.read(quick ? 10 : 30);
  results.watch = { n, seconds, events, cpu: (u.user + u.system) / 1e6 / seconds, poll: T.median(polls), pollMax: Math.max(...polls), raw };
  const w = results.watch;
  console.log(`watch, ${n} unchanged rules at 10 Hz for ${f2(seconds)} s: ${events} events, CPU ${(100 * w.cpu).toFixed(1)} % of a core; a poll ${f2(w.poll)} ms (max ${f2(w.pollMax)}), raw read ${f2(raw)} ms (x${f2(w.poll / raw)})`);
}
closeSync(devnull);

if (!quick) {
  const file = join(here, 'RESULTS.md');
  const before = readFileSync(file, 'utf8');
  const section = (await import('./metrics-report.mjs')).report(results);
  // This section replaced where it is (up to the next heading of its level), or added at the end.
  const start = before.indexOf('\n## Metrics, exporter and watch');
  const end = start < 0 ? -1 : before.indexOf('\n## ', start + 1);
  writeFileSync(file, start < 0 ? `${before.trimEnd()}\n\n${section}` : `${before.slice(0, start + 1)}${section}${end < 0 ? '' : before.slice(end)}`);
}
