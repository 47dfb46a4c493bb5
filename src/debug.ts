/**
 * NODE_DEBUG=iptc: what libxtables' extensions warned of while parsing
 * rules, and each commit (table, family, backend, rules, ms), on stderr
 * through util.debuglog, as Node's own modules trace.
 */
import { debuglog } from 'node:util';

let log: ReturnType<typeof debuglog> | undefined;

export function debug(msg: string, ...args: unknown[]): void {
  log ??= debuglog('iptc');
  log(msg, ...args);
}

/** Whether NODE_DEBUG names iptc: what a trace costs to gather is spent only then. */
export function tracing(): boolean {
  log ??= debuglog('iptc');
  return log.enabled;
}
