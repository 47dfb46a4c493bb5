// The rule shapes the benchmarks use, as restore text, as iptables words and
// as rule objects. `tag` makes every rule of a run distinct (a different
// comment), so that a run cannot profit from what an earlier one parsed.
const src = (i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`;
const port = (i) => String(1 + (i % 65535));

export const SHAPES = {
  // The shape DESIGN.md measured the floors with (about 488 bytes a rule).
  simple: {
    words: (i, tag = '') => ['-s', src(i), '-p', 'tcp', '-m', 'tcp', '--dport', port(i), '-m', 'comment', '--comment', `svc ${i}${tag}`, '-j', 'ACCEPT'],
    object: (i, tag = '') => ({
      source: src(i),
      protocol: 'tcp',
      matches: [
        { name: 'tcp', options: { dport: port(i) } },
        { name: 'comment', options: { comment: `svc ${i}${tag}` } },
      ],
      target: 'ACCEPT',
    }),
  },
  // Several matches a rule (about 840 bytes).
  multi: {
    words: (i, tag = '') => ['-s', src(i), '-i', 'eth0', '-p', 'tcp', '-m', 'tcp', '--dport', port(i), '-m', 'conntrack', '--ctstate', 'NEW,ESTABLISHED',
      '-m', 'multiport', '--sports', '1000:2000,3000', '-m', 'limit', '--limit', '100/sec', '-m', 'comment', '--comment', `svc ${i}${tag}`, '-j', 'ACCEPT'],
    object: (i, tag = '') => ({
      source: src(i),
      inInterface: 'eth0',
      protocol: 'tcp',
      matches: [
        { name: 'tcp', options: { dport: port(i) } },
        { name: 'conntrack', options: { ctstate: 'NEW,ESTABLISHED' } },
        { name: 'multiport', options: { sports: '1000:2000,3000' } },
        { name: 'limit', options: { limit: '100/sec' } },
        { name: 'comment', options: { comment: `svc ${i}${tag}` } },
      ],
      target: 'ACCEPT',
    }),
  },
};

const quote = (w) => (/[\s"\\]/.test(w) || w === '' ? `"${w.replace(/[\\"]/g, '\\$&')}"` : w);

/** A filter table of n rules in INPUT, as iptables-restore input. */
export function restoreText(shape, n, tag = '') {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let i = 0; i < n; i++) lines.push(`-A INPUT ${SHAPES[shape].words(i, tag).map(quote).join(' ')}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/**
 * The same n rules spread evenly over `chains` user chains (spread0, spread1,
 * ...; n / chains rules each, nothing jumps to them): how the cost of an
 * nf_tables dump depends on chain length. One chain: restoreText's table.
 */
export function spreadText(shape, n, chains, tag = '') {
  if (chains === 1) return restoreText(shape, n, tag);
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let c = 0; c < chains; c++) lines.push(`:spread${c} - [0:0]`);
  for (let i = 0; i < n; i++) lines.push(`-A spread${Math.floor((i * chains) / n)} ${SHAPES[shape].words(i, tag).map(quote).join(' ')}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export const EMPTY = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
