// A process for test/faults.test.ts: worker threads that go away while an
// async read (or commit) of theirs is still running off-thread — by
// process.exit() in the worker, by worker.terminate() from here, or by simply
// returning. The process must live through all of it; it prints 'ok' and
// exits 0. Args: netnsPath [rounds] [how] (how: exit, terminate, return or
// commit; default all four). The workers: dying-reader.mjs.
import { Worker } from 'node:worker_threads';
import { Table } from '../../dist/index.js';

const [netns, rounds = '10', only] = process.argv.slice(2);

const ways = only ? [only] : ['exit', 'terminate', 'return', 'commit'];
let started = 0;
for (let round = 0; round < Number(rounds); round++) {
  await Promise.all(
    ways.map(
      (how) =>
        new Promise((resolve, reject) => {
          const w = new Worker(new URL('./dying-reader.mjs', import.meta.url), { workerData: { netns, how } });
          w.on('message', () => {
            started++;
            if (how === 'terminate') w.terminate();
          });
          w.on('error', reject);
          w.on('exit', resolve);
        }),
    ),
  );
}
// The main thread still works, and so does the addon.
const t = await Table.open('filter', { netns });
if (started !== ways.length * Number(rounds)) throw new Error(`only ${started} workers started`);
console.log(`ok ${started} workers, ${t.rules('INPUT').length} rules`);
