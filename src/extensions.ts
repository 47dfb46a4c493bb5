/**
 * Precise types for the common matches and targets, on top of the generic
 * options every extension has. `matchFields(rule, 'tcp')` gives the first tcp
 * match of a rule as `{ dport: { value: '22', invert: false }, ... }`;
 * `targetFields(rule, 'LOG')` the LOG target's fields. Field names are the
 * option names in camelCase (`--log-prefix` → `logPrefix`).
 */
import type { Match, Option, Rule, Target } from './rule.js';

/** A value and whether it was negated with `!`. */
export interface Negatable<T> {
  value: T;
  invert: boolean;
}

export interface TcpFields {
  sport?: Negatable<string>;
  dport?: Negatable<string>;
  tcpFlags?: Negatable<{ mask: string[]; compare: string[] }>;
  syn?: Negatable<true>;
  tcpOption?: Negatable<number>;
}
export interface UdpFields {
  sport?: Negatable<string>;
  dport?: Negatable<string>;
}
export interface IcmpFields {
  icmpType?: Negatable<string>;
}
export interface Icmp6Fields {
  icmpv6Type?: Negatable<string>;
}
export interface MultiportFields {
  sports?: Negatable<string[]>;
  dports?: Negatable<string[]>;
  ports?: Negatable<string[]>;
}
export interface ConntrackFields {
  ctstate?: Negatable<string[]>;
  ctproto?: Negatable<string>;
  ctorigsrc?: Negatable<string>;
  ctorigdst?: Negatable<string>;
  ctreplsrc?: Negatable<string>;
  ctrepldst?: Negatable<string>;
  ctorigsrcport?: Negatable<string>;
  ctorigdstport?: Negatable<string>;
  ctreplsrcport?: Negatable<string>;
  ctrepldstport?: Negatable<string>;
  ctstatus?: Negatable<string[]>;
  ctexpire?: Negatable<string>;
  ctdir?: Negatable<string>;
}
export interface StateFields {
  state?: Negatable<string[]>;
}
export interface CommentFields {
  comment?: Negatable<string>;
}
export interface IprangeFields {
  srcRange?: Negatable<string>;
  dstRange?: Negatable<string>;
}
export interface LimitFields {
  limit?: Negatable<string>;
  limitBurst?: Negatable<number>;
}
export interface MarkFields {
  mark?: Negatable<string>;
}
export interface MacFields {
  macSource?: Negatable<string>;
}
export interface SetFields {
  matchSet?: Negatable<{ name: string; flags: string[] }>;
  returnNomatch?: Negatable<true>;
  updateCounters?: Negatable<true>;
  updateSubcounters?: Negatable<true>;
  packetsEq?: Negatable<number>;
  bytesEq?: Negatable<number>;
}

export interface MatchFieldTypes {
  tcp: TcpFields;
  udp: UdpFields;
  icmp: IcmpFields;
  icmp6: Icmp6Fields;
  multiport: MultiportFields;
  conntrack: ConntrackFields;
  state: StateFields;
  comment: CommentFields;
  iprange: IprangeFields;
  limit: LimitFields;
  mark: MarkFields;
  mac: MacFields;
  set: SetFields;
}

export interface RejectFields {
  rejectWith?: Negatable<string>;
}
export interface LogFields {
  logPrefix?: Negatable<string>;
  logLevel?: Negatable<string>;
  logTcpSequence?: Negatable<true>;
  logTcpOptions?: Negatable<true>;
  logIpOptions?: Negatable<true>;
  logUid?: Negatable<true>;
  logMacdecode?: Negatable<true>;
}
export interface DnatFields {
  toDestination?: Negatable<string>;
  random?: Negatable<true>;
  persistent?: Negatable<true>;
}
export interface SnatFields {
  toSource?: Negatable<string>;
  random?: Negatable<true>;
  randomFully?: Negatable<true>;
  persistent?: Negatable<true>;
}
export interface MasqueradeFields {
  toPorts?: Negatable<string>;
  random?: Negatable<true>;
  randomFully?: Negatable<true>;
}
export interface MarkTargetFields {
  setMark?: Negatable<string>;
  setXmark?: Negatable<string>;
  andMark?: Negatable<string>;
  orMark?: Negatable<string>;
  xorMark?: Negatable<string>;
}

export interface TargetFieldTypes {
  REJECT: RejectFields;
  LOG: LogFields;
  DNAT: DnatFields;
  SNAT: SnatFields;
  MASQUERADE: MasqueradeFields;
  MARK: MarkTargetFields;
}

type Kind = 'string' | 'list' | 'number' | 'flag' | 'pair' | 'set';

/** How each option's words become a value; anything not listed stays a string (or words). */
const KINDS: Record<string, Record<string, Kind>> = {
  tcp: { 'tcp-flags': 'pair', syn: 'flag', 'tcp-option': 'number' },
  multiport: { sports: 'list', dports: 'list', ports: 'list' },
  conntrack: { ctstate: 'list', ctstatus: 'list' },
  state: { state: 'list' },
  limit: { 'limit-burst': 'number' },
  set: { 'match-set': 'set', 'return-nomatch': 'flag', 'update-counters': 'flag', 'update-subcounters': 'flag', 'packets-eq': 'number', 'bytes-eq': 'number' },
  LOG: { 'log-tcp-sequence': 'flag', 'log-tcp-options': 'flag', 'log-ip-options': 'flag', 'log-uid': 'flag', 'log-macdecode': 'flag' },
  DNAT: { random: 'flag', persistent: 'flag' },
  SNAT: { random: 'flag', 'random-fully': 'flag', persistent: 'flag' },
  MASQUERADE: { random: 'flag', 'random-fully': 'flag' },
};

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function value(kind: Kind | undefined, o: Option): unknown {
  const v = o.values;
  switch (kind) {
    case 'flag':
      return true;
    case 'number':
      return Number(v[0]);
    case 'list':
      return (v[0] ?? '').split(',');
    case 'pair':
      return { mask: (v[0] ?? '').split(','), compare: (v[1] ?? '').split(',') };
    case 'set':
      return { name: v[0] ?? '', flags: (v[1] ?? '').split(',') };
    default:
      return v.length === 0 ? true : v.length === 1 ? v[0] : v;
  }
}

/**
 * The fields of any match or target: option names in camelCase, values typed where known.
 * @example
 * ```ts
 * import { Table, fields } from 'iptc-node';
 * for (const m of (await Table.open('filter')).rules('INPUT')[0]?.matches ?? []) console.log(m.name, fields(m));
 * ```
 */
export function fields(ext: Match | Target): Record<string, Negatable<unknown>> {
  const kinds = KINDS[ext.name] ?? {};
  const out: Record<string, Negatable<unknown>> = {};
  for (const o of ext.options) out[camel(o.name)] = { value: value(kinds[o.name], o), invert: o.invert };
  return out;
}

/**
 * The first `name` match of a rule, as typed fields; undefined when the rule has none.
 * @example
 * ```ts
 * import { parseRule, matchFields } from 'iptc-node';
 * const dport = matchFields(parseRule('-p tcp ! --dport 22 -j DROP'), 'tcp')?.dport; // { value: '22', invert: true }
 * ```
 */
export function matchFields<N extends keyof MatchFieldTypes>(rule: Rule, name: N): MatchFieldTypes[N] | undefined {
  const m = rule.matches.find((x) => x.name === name);
  return m && (fields(m) as MatchFieldTypes[N]);
}

/**
 * The rule's target as typed fields when it is `name`; undefined otherwise.
 * @example
 * ```ts
 * import { parseRule, targetFields } from 'iptc-node';
 * const prefix = targetFields(parseRule('-j LOG --log-prefix "in: "'), 'LOG')?.logPrefix?.value; // 'in: '
 * ```
 */
export function targetFields<N extends keyof TargetFieldTypes>(rule: Rule, name: N): TargetFieldTypes[N] | undefined {
  return rule.target?.name === name ? (fields(rule.target) as TargetFieldTypes[N]) : undefined;
}
