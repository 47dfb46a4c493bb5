// A worker thread for test/faults.test.ts: `count` times, appends one rule
// (comment PREFIX-i) through Table.update, which holds the xtables lock from
// read to commit and starts again on a conflict; or, with mode 'read', reads
// the table `count` times. workerData: { netns, family, table, chain, prefix,
// count, mode }.
import { parentPort, workerData } from 'node:worker_threads';
import { Table } from '../../dist/index.js';

const { netns, family, table, chain, prefix, count, mode } = workerData;
let rules = 0;
for (let i = 0; i < count; i++) {
  if (mode === 'read') {
    const t = i % 2 ? Table.openSync(table, { family, netns }) : await Table.open(table, { family, netns });
    rules += t.rules(chain).length;
  } else {
    await Table.update(table, { family, netns, lockTimeout: -1, retries: 1000 }, (t) => {
      t.append(chain, `-m comment --comment ${prefix}-${i} -j ACCEPT`);
    });
  }
}
parentPort.postMessage({ done: count, rules });
