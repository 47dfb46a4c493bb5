// A worker thread for test/workers/exit-while-reading.mjs: starts an async
// read (or read and commit) and goes away before it is done.
// workerData: { netns, how: 'exit' | 'terminate' | 'return' | 'commit' }
import { parentPort, workerData } from 'node:worker_threads';
import { Table } from '../../dist/index.js';

const { netns, how } = workerData;
const p =
  how === 'commit'
    ? Table.open('filter', { netns }).then((t) => t.append('INPUT', '-m comment --comment from-a-dying-worker -j ACCEPT').commit())
    : Table.open('filter', { netns });
p.catch(() => {});
parentPort.postMessage('started');
// 'exit' and 'commit' leave at once; 'terminate' is ended by the parent;
// 'return' lets the module end with the read still pending.
if (how === 'exit' || how === 'commit') process.exit(0);
