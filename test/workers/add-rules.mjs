// A separate process that adds N distinct rules to a table, one commit each,
// through Table.update (lock held from read to commit). Used by the
// concurrency tests. Args: netnsPath family table chain prefix count [backend]
import { Table } from '../../dist/index.js';

const [netns, family, table, chain, prefix, count, backend = 'auto'] = process.argv.slice(2);
for (let i = 0; i < Number(count); i++) {
  await Table.update(table, { family, netns, backend, lockTimeout: -1, retries: 100 }, (t) => {
    t.append(chain, `-m comment --comment ${prefix}-${i} -j ACCEPT`);
  });
}
