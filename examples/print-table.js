// A short example: make a scratch network namespace, put a few rules in its
// filter table through iptc-node, read the table back and print it the way
// iptables-save would. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN).
import { Netns, Table } from 'iptc-node';

const ns = Netns.create(); // a new, empty network namespace: the host firewall is untouched
try {
  const table = await Table.open('filter', { netns: ns });
  table
    .append('INPUT', '-i lo -j ACCEPT')
    .append('INPUT', '-p tcp --dport 22 -j ACCEPT')
    .append('INPUT', '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT')
    .setPolicy('INPUT', 'DROP');
  await table.commit();

  const again = await Table.open('filter', { netns: ns });
  for (const chain of again.chains()) {
    console.log(`${chain.name}: policy ${chain.policy ?? '-'}, ${chain.length} rules`);
  }
  console.log(again.rules('INPUT')[1]);
  process.stdout.write(again.save({ counters: true }));
} finally {
  ns.close();
}
