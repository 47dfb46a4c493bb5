#!/usr/bin/env node
// The event loop during one O(table) call, in a fresh process (nothing else
// allocated, no garbage from earlier phases): node bench/stall.mjs OP RULES
// prints { took, worstGap, maxDelay } as JSON. Run by bench/run.mjs inside
// its scratch namespace; OP is restore, open, commit or validate.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Table, restore } from '../dist/index.js';
import { EMPTY, SHAPES, restoreText } from './shapes.mjs';
import { legacyRestore, stallDuring } from './tools.mjs';

const [op, count] = process.argv.slice(2);
const n = Number(count);
const text = restoreText('simple', n, ` fresh${process.pid}`);
let call;
if (op === 'restore') {
  await legacyRestore(EMPTY);
  call = () => restore(text);
} else if (op === 'open') {
  await legacyRestore(text);
  call = () => Table.open('filter');
} else if (op === 'commit') {
  await legacyRestore(EMPTY);
  const t = await Table.open('filter');
  for (let i = 0; i < n; i++) t.append('INPUT', SHAPES.simple.words(i, ' commit'));
  call = () => t.commit();
} else if (op === 'validate') {
  await legacyRestore(text);
  const t = await Table.open('filter');
  call = () => t.validate();
} else {
  console.error(`usage: stall.mjs restore|open|commit|validate RULES`);
  process.exit(2);
}
// Let start-up settle first.
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify(await stallDuring(call, monitorEventLoopDelay)));
