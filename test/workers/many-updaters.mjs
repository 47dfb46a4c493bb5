// A process for test/faults.test.ts: many worker threads (table-updater.mjs)
// at once on the same table and on others, and the main thread too, each
// adding its own rules through Table.update. Run it with a libuv pool larger
// than the number of concurrent updates (UV_THREADPOOL_SIZE): see C4 there.
// Args: netnsPath count. Prints the jobs as JSON, for the test to check.
import { Worker } from 'node:worker_threads';
import { Table } from '../../dist/index.js';

const [netns, n = '10'] = process.argv.slice(2);
const count = Number(n);
const jobs = [
  ...['w1', 'w2', 'w3', 'w4'].map((prefix) => ({ family: 'ipv4', table: 'filter', chain: 'INPUT', prefix, count })),
  { family: 'ipv4', table: 'filter', chain: 'svc', prefix: 'w5', count },
  { family: 'ipv4', table: 'nat', chain: 'PREROUTING', prefix: 'w6', count },
  { family: 'ipv4', table: 'mangle', chain: 'PREROUTING', prefix: 'w7', count },
  { family: 'ipv6', table: 'filter', chain: 'INPUT', prefix: 'w8', count },
  { family: 'ipv6', table: 'filter', chain: 'INPUT', prefix: 'w9', count },
  { family: 'ipv4', table: 'filter', chain: 'INPUT', prefix: 'r1', count: 2 * count, mode: 'read' },
  { family: 'ipv6', table: 'filter', chain: 'INPUT', prefix: 'r2', count: 2 * count, mode: 'read' },
];
const run = (job) =>
  new Promise((resolve, reject) => {
    const w = new Worker(new URL('./table-updater.mjs', import.meta.url), { workerData: { netns, ...job } });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${job.prefix} exited with ${code}`))));
  });
const main = async () => {
  for (let i = 0; i < count; i++) {
    await Table.update('filter', { netns, lockTimeout: -1, retries: 1000 }, (t) => {
      t.append('INPUT', `-m comment --comment main-${i} -j ACCEPT`);
    });
  }
};
await Promise.all([...jobs.map(run), main()]);
jobs.push({ family: 'ipv4', table: 'filter', chain: 'INPUT', prefix: 'main', count });
console.log(JSON.stringify(jobs));
