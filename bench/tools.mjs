// What the benchmarks compare with: the iptables-legacy and iptables-nft
// tools, spawned as programs spawn them today (and their output parsed in
// Node where a program would parse it), and the C floors in bench/*.c. Plus
// timing.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Median ms of `runs` calls of fn; `before` runs untimed before each. */
export async function time(runs, fn, before) {
  const t = [];
  for (let i = 0; i < runs; i++) {
    if (before) await before(i);
    const t0 = process.hrtime.bigint();
    await fn(i);
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(t);
}

/** iptables-legacy-restore (or another restore tool) with `text` on its standard input. */
export function legacyRestore(text, flags = [], tool = 'iptables-legacy-restore') {
  return new Promise((resolve, reject) => {
    const p = spawn(tool, ['-w', ...flags], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`${tool}: ${err}`))));
    p.stdin.end(text);
  });
}

/** The same text into nf_tables, through iptables-nft-restore. */
export const nftRestore = (text, flags = []) => legacyRestore(text, flags, 'iptables-nft-restore');
/** iptables-nft with arguments. */
export const nft = (args) => run('iptables-nft', args);
/** Moves nf_tables' generation without touching the filter table (another program's change elsewhere). */
export const nftTouch = async () => {
  await run('nft', ['add', 'table', 'inet', 'touch']);
  await run('nft', ['delete', 'table', 'inet', 'touch']);
};
/** Empties nf_tables (of the bench's scratch namespace only: run.mjs runs in its own). */
export const nftFlush = () => run('nft', ['flush', 'ruleset']);

export const legacy = (args) => run('iptables-legacy', ['-w', ...args]);
export const legacySave = () => run('iptables-legacy-save', ['-c', '-t', 'filter'], { maxBuffer: 1 << 30 });
export const nftSave = () => run('iptables-nft-save', ['-c', '-t', 'filter'], { maxBuffer: 1 << 30 });

/** The rules of iptables-save -c output, as a program parses them. */
function parseRules(stdout) {
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

/** ...and its counters only. */
function parseCounters(stdout) {
  const c = [];
  for (const m of stdout.matchAll(/^\[(\d+):(\d+)\]/gm)) c.push(BigInt(m[1]), BigInt(m[2]));
  return c;
}

/** What monitoring does today for rules: spawn iptables-save -c and parse its lines. */
export const spawnAndParseRules = async () => parseRules((await legacySave()).stdout);
/** ...and for counters only. */
export const spawnAndParseCounters = async () => parseCounters((await legacySave()).stdout);
/** The same two with iptables-nft-save -c. */
export const nftSpawnAndParseRules = async () => parseRules((await nftSave()).stdout);
export const nftSpawnAndParseCounters = async () => parseCounters((await nftSave()).stdout);

/** The C floors, compiled once per run into a temporary directory. */
export function buildFloors(here) {
  const bin = mkdtempSync(join(tmpdir(), 'iptc-bench-bin-'));
  execFileSync('cc', ['-O2', '-o', join(bin, 'raw_read'), join(here, 'raw_read.c')]);
  execFileSync('cc', ['-O2', '-o', join(bin, 'one_rule'), join(here, 'one_rule.c')]);
  execFileSync('cc', ['-O2', '-o', join(bin, 'nft_dump'), join(here, 'nft_dump.c'), '-lnftnl', '-lmnl']);
  execFileSync('cc', ['-O2', '-o', join(bin, 'nft_one_rule'), join(here, 'nft_one_rule.c'), '-lnftnl', '-lmnl']);
  const floor = (prog, ...args) => Number(execFileSync(join(bin, prog), args.map(String)).toString());
  return {
    bin,
    /** GET_INFO + GET_ENTRIES of filter. */
    read: (runs) => floor('raw_read', 'filter', runs),
    /** GET + splice + SET_REPLACE + SET_ADD_COUNTERS of one rule, appended or deleted. */
    oneRule: (what, runs) => floor('one_rule', what, runs),
    /**
     * Only the NFT_MSG_GETRULE dump of nf_tables' ip filter, each rule walked
     * to its counter; fails unless it holds `rules` rules. 'per-chain': a
     * chain dump, then one rule dump per chain.
     */
    nftDump: (runs, rules, mode) => floor('nft_dump', 'filter', runs, rules, ...(mode ? [mode] : [])),
    /**
     * Only the batch that appends (or deletes) one rule of ip filter INPUT,
     * as iptables-nft encodes it: the kernel's own share of -A / -D.
     */
    nftOneRule: (what, runs) => floor('nft_one_rule', 'filter', 'INPUT', what, runs),
  };
}

/**
 * The longest the event loop waits while `op` runs: the largest gap between
 * 1 ms timer ticks, and monitorEventLoopDelay's maximum.
 */
export async function stallDuring(op, monitorEventLoopDelay) {
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
  await op();
  const took = performance.now() - t0;
  h.disable();
  clearInterval(tick);
  worst = Math.max(worst, performance.now() - last);
  return { took, worstGap: worst, maxDelay: h.max / 1e6 };
}
