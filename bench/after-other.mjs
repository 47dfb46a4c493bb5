#!/usr/bin/env node
// Table.update(... append one rule) on an iptables-nft table right after
// ANOTHER program changed the ruleset, side by side with `iptables-nft -A`,
// in one scratch network namespace (node runs inside it, as run.mjs does).
// Another's change: `iptables-nft -A INPUT` on the same table (the kernel
// announces the rule; iptc-node follows without a dump), and the bench's
// nftTouch (a table elsewhere made and deleted). Also: the known case (our
// own update last), and the counts of nftKnownStats (caught up vs dumped).
//   node bench/after-other.mjs [sizes, default 10000,50000] (needs dist: npm run build)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (!process.env.IPTC_BENCH_INSIDE) {
  const r = spawnSync('unshare', ['-n', process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, IPTC_BENCH_INSIDE: '1' },
  });
  process.exit(r.status ?? 1);
}

const { Table } = await import('../dist/index.js');
const { native } = await import('../dist/native.js');
const { restoreText } = await import('./shapes.mjs');
const T = await import('./tools.mjs');

const sizes = (process.argv[2] ?? '10000,50000').split(',').map(Number);
const nft = { backend: 'nft' };
const one = ['-p', 'udp', '-m', 'udp', '--dport', '9', '-j', 'ACCEPT'];
const other = ['-p', 'udp', '-m', 'udp', '--dport', '10', '-j', 'ACCEPT'];
const ours = () => Table.update('filter', nft, (t) => t.append('INPUT', one));
const f2 = (x) => x.toFixed(2).padStart(8);

for (const n of sizes) {
  for (const shape of ['simple', 'multi']) {
    const runs = Number(process.env.RUNS ?? (n >= 50000 ? 7 : 11));
    await T.nftFlush();
    await T.nftRestore(restoreText(shape, n, ' a'));
    await ours(); // known from here on
    const s0 = native.nftKnownStats();
    // Interleaved, so both sides see the same machine load.
    const a = [], b = [], c = [], d = [];
    for (let i = 0; i < runs; i++) {
      await T.nft(['-A', 'INPUT', ...other]);
      let t0 = process.hrtime.bigint();
      await ours();
      a.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await T.nftTouch();
      t0 = process.hrtime.bigint();
      await ours();
      b.push(Number(process.hrtime.bigint() - t0) / 1e6);
      t0 = process.hrtime.bigint();
      await ours();
      d.push(Number(process.hrtime.bigint() - t0) / 1e6);
      t0 = process.hrtime.bigint();
      await T.nft(['-A', 'INPUT', ...one]);
      c.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const s1 = native.nftKnownStats();
    const tool = T.median(c);
    const line = (what, xs) => console.log(`${String(n).padStart(6)} ${shape.padEnd(7)} ${what.padEnd(58)} ours ${f2(T.median(xs))} ms  iptables-nft -A ${f2(tool)} ms  x${(tool / T.median(xs)).toFixed(2)}`);
    line('update append, after another\'s iptables-nft -A (same table)', a);
    line('update append, after another\'s change elsewhere (nftTouch)', b);
    line('update append, known (our own update last)', d);
    console.log(`       (reads for a change: ${s1.same - s0.same} known, ${s1.caughtUp - s0.caughtUp} caught up from announcements, ${s1.fellBack - s0.fellBack} dumped)`);
  }
}
await T.nftFlush();
