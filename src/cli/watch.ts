/**
 * `iptc watch`: each change to a table, printed as the iptables arguments
 * that make it (`-A INPUT ...`, `-D ...`, `-P ...`; `-t TABLE` in front for
 * a table other than filter), one line each, as xtables-monitor prints
 * nf_tables changes. Ends on SIGINT / SIGTERM or after --count changes.
 */
import { watch } from '../watch.js';
import type { BackendChoice } from '../which.js';
import { intOption, tableOption, UsageError, type Args } from './args.js';

export async function runWatch(a: Args): Promise<void> {
  if (a.rest.length) throw new UsageError(`unexpected argument ${a.rest[0]}`);
  const table = tableOption(a) ?? 'filter';
  const interval = intOption(a, '--interval', 1000, 1);
  const count = a.values.has('--count') ? intOption(a, '--count', 1, 1) : Infinity;
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const prefix = table === 'filter' ? '' : `-t ${table} `;
  let seen = 0;
  try {
    const changes = watch(table, {
      family: a.flags.has('--ipv6') ? 'ipv6' : 'ipv4',
      netns: a.values.get('--netns'),
      backend: (a.values.get('--backend') ?? 'auto') as BackendChoice,
      interval,
      signal: ac.signal,
    });
    for await (const c of changes) {
      process.stdout.write(c.commands.map((x) => `${prefix}${x}\n`).join(''));
      if (++seen >= count) break;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
