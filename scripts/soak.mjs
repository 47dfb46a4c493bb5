#!/usr/bin/env node
// Soak: many read / commit / counter-poll cycles in one scratch network
// namespace, watching resident memory. Each cycle reads the filter table
// (sync and async in turn) and polls its counters; every 10th cycle also
// commits one change (appends a rule, or deletes the oldest one, so the
// table stays small). Traffic on lo (ping, when there is one) keeps the
// counters moving.
//
// RSS is printed at the start, after the first 1,000 cycles, every 10,000
// cycles and at the end; the run fails (exit 1) when RSS at the end is more
// than 20 MB above RSS after the first 1,000 cycles.
//
//   npm run soak                      # 100,000 cycles
//   node scripts/soak.mjs --cycles 20000 --limit-mb 20
//
// Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN); never touches the machine's own
// firewall: everything happens in a namespace made for the run.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

// V8 grows its young generation (up to 2 x 16 MB semi-spaces) during the
// first ten thousand or so cycles: +25 MB of RSS that is heap sizing, not a
// leak, and flat afterwards. Pin it small, so that what grows is what is
// kept (native memory, old space); and let gc() settle the heap before each
// measurement. Without these flags, run again with them.
const FLAGS = ['--expose-gc', '--max-semi-space-size=1'];
if (!FLAGS.every((f) => process.execArgv.includes(f))) {
  const r = spawnSync(process.execPath, [...FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { Netns, Table, CounterReader } = await import('../dist/index.js');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const CYCLES = opt('cycles', 100_000);
const LIMIT_MB = opt('limit-mb', 20);
const BASE_RULES = 40;

const MB = 1024 * 1024;
const gc = globalThis.gc ?? (() => {});
const rss = () => {
  gc();
  return process.memoryUsage().rss;
};
const mb = (n) => `${(n / MB).toFixed(1)} MB`;
const heap = () => {
  const m = process.memoryUsage();
  return `heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external ${mb(m.external)}`;
};

const ns = Netns.create();
let ping;
try {
  // Some traffic for the counters: ping on lo, inside the namespace.
  if (spawnSync('nsenter', [`--net=${ns.path}`, 'ip', 'link', 'set', 'lo', 'up']).status === 0) {
    ping = spawn('nsenter', [`--net=${ns.path}`, 'ping', '-q', '-i', '0.01', '127.0.0.1'], { stdio: 'ignore' });
    ping.on('error', () => (ping = undefined));
  }

  const t0 = Table.openSync('filter', { netns: ns });
  for (let i = 0; i < BASE_RULES; i++) t0.append('INPUT', `-p tcp --dport ${1000 + i} -m comment --comment base-${i} -j ACCEPT`);
  t0.append('INPUT', '-p icmp -j ACCEPT');
  t0.append('OUTPUT', '-p icmp -j ACCEPT');
  t0.commitSync();
  const poller = CounterReader ? new CounterReader('filter', { netns: ns }) : undefined;

  const start = Date.now();
  const startRss = rss();
  console.log(`soak: ${CYCLES} cycles in a scratch namespace; rss at start ${mb(startRss)}`);
  let after1k = 0;
  let added = 0;
  let deleted = 0;
  let packets = 0n;
  for (let i = 1; i <= CYCLES; i++) {
    // Read the whole table and poll counters.
    const t = i % 2 ? Table.openSync('filter', { netns: ns }) : await Table.open('filter', { netns: ns });
    const rules = t.rules('INPUT');
    packets = rules.reduce((n, r) => n + r.counters.packets, 0n);
    if (poller) {
      const snap = i % 2 ? poller.readSync() : await poller.read();
      if (!snap) throw new Error('CounterReader gave nothing');
    }
    // Every 10th cycle: one change, committed.
    if (i % 10 === 0) {
      const extra = rules.length - BASE_RULES - 1;
      if (extra < 5 || (extra < 20 && i % 20 === 0)) {
        t.append('INPUT', `-p udp --dport ${(i % 50000) + 10000} -m comment --comment soak-${i} -j ACCEPT`);
        added++;
      } else {
        t.delete('INPUT', BASE_RULES + 2); // the oldest rule the soak added
        deleted++;
      }
      if (i % 20 === 0) await t.commit();
      else t.commitSync();
    }
    if (i === 1000) {
      after1k = rss();
      console.log(`soak: ${i} cycles, ${((Date.now() - start) / 1000).toFixed(1)} s, rss ${mb(after1k)} (the baseline; ${heap()})`);
    } else if (i % 10_000 === 0) {
      console.log(`soak: ${i} cycles, ${((Date.now() - start) / 1000).toFixed(1)} s, rss ${mb(rss())} (${heap()}), INPUT has ${rules.length} rules, ${packets} packets counted`);
    }
  }
  poller?.close?.();
  await sleep(10);
  const endRss = rss();
  const secs = (Date.now() - start) / 1000;
  const base = after1k || startRss;
  const growth = endRss - base;
  console.log(
    `soak: done: ${CYCLES} cycles in ${secs.toFixed(1)} s (${Math.round(CYCLES / secs)} cycles/s), ${added} rules added, ${deleted} deleted;` +
      ` rss start ${mb(startRss)}, after 1,000 cycles ${mb(base)}, end ${mb(endRss)} (${growth >= 0 ? '+' : ''}${mb(growth)}; limit +${LIMIT_MB} MB)`,
  );
  if (growth > LIMIT_MB * MB) {
    console.error(`soak: FAIL: resident memory grew by ${mb(growth)} after the first 1,000 cycles`);
    process.exitCode = 1;
  }
} finally {
  if (ping?.pid) process.kill(ping.pid, 'SIGKILL');
  ns.close();
}
