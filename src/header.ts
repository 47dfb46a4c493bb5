/**
 * The fixed part of a kernel rule entry (ipt_ip / ip6t_ip6): addresses,
 * interfaces, protocol, flags. Decoded from bytes and printed the way
 * iptables-save prints it (-s -d -i -o -p -f, each with `!` when negated).
 */
import { readFileSync } from 'node:fs';
import type { FamilyName } from './native.js';

export interface Header {
  source?: string;
  destination?: string;
  inInterface?: string;
  outInterface?: string;
  protocol?: string;
  fragment: boolean;
  goto: boolean;
  invert: {
    source: boolean;
    destination: boolean;
    inInterface: boolean;
    outInterface: boolean;
    protocol: boolean;
    fragment: boolean;
  };
}

// invflags bits, equal for IPv4 and IPv6 (IPT_INV_* / IP6T_INV_*)
const INV_VIA_IN = 0x01;
const INV_VIA_OUT = 0x02;
const INV_SRCIP = 0x08;
const INV_DSTIP = 0x10;
const INV_FRAG = 0x20;
const INV_PROTO = 0x40;
// flags
const F4_FRAG = 0x01;
const F4_GOTO = 0x02;
const F6_GOTO = 0x04;

/** Names iptables gives protocols before it asks /etc/protocols (xtables_chain_protos). */
const XTABLES_PROTOS: [string, number][] = [
  ['tcp', 6], ['sctp', 132], ['udp', 17], ['udplite', 136], ['icmp', 1], ['ipv6-icmp', 58],
  ['icmpv6', 58], ['esp', 50], ['ah', 51], ['mobility-header', 135], ['ipv6-mh', 135], ['mh', 135], ['all', 0],
];

let etcProtocols: Map<number, string> | undefined;

function protocolName(n: number): string {
  for (const [name, num] of XTABLES_PROTOS) if (num === n) return name;
  if (!etcProtocols) {
    etcProtocols = new Map();
    try {
      for (const line of readFileSync('/etc/protocols', 'latin1').split('\n')) {
        const f = line.replace(/#.*/, '').trim().split(/\s+/);
        if (f.length >= 2 && /^\d+$/.test(f[1]!) && !etcProtocols.has(Number(f[1]))) etcProtocols.set(Number(f[1]), f[0]!);
      }
    } catch {
      // no /etc/protocols: numbers it is
    }
  }
  return etcProtocols.get(n) ?? String(n);
}

function maskLength4(m: number): number {
  if (m === 0xffffffff) return 32;
  for (let i = 31; i >= 0; i--) if (m === ((0xfffffffe << (31 - i)) >>> 0)) return i;
  return -1;
}

function ntop4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** inet_ntop(AF_INET6) exactly as glibc writes it. */
export function ntop6(b: Buffer, at: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(b.readUInt16BE(at + 2 * i));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += ntop4(b, at + 12);
      break;
    }
    out += words[i]!.toString(16);
  }
  if (best >= 0 && best + bestLen === 8) out += ':';
  return out;
}

function maskLength6(b: Buffer, at: number): number {
  let bits = 0;
  let i = 0;
  for (; i < 16 && b[at + i] === 0xff; i++) bits += 8;
  if (i < 16) {
    const x = b[at + i]!;
    let k = 0;
    while (k < 8 && x & (0x80 >> k)) k++;
    if ((x << k) & 0xff) return -1;
    bits += k;
    for (i++; i < 16; i++) if (b[at + i] !== 0) return -1;
  }
  return bits;
}

/** An interface name as iptables-save prints it (its bytes, UTF-8 for JavaScript), `+` for a wildcard. */
function iface(b: Buffer, nameAt: number, maskAt: number): string | undefined {
  if (b[maskAt] === 0) return undefined;
  const bytes: number[] = [];
  let plus = false;
  for (let i = 0; i < 16; i++) {
    if (b[maskAt + i] !== 0) {
      if (b[nameAt + i] !== 0) bytes.push(b[nameAt + i]!);
    } else {
      plus = b[nameAt + i - 1] !== 0;
      break;
    }
  }
  return Buffer.from(bytes).toString('utf8') + (plus ? '+' : '');
}

export function decodeHeader(family: FamilyName, b: Buffer): Header {
  const v4 = family === 'ipv4';
  const protoAt = v4 ? 80 : 128;
  const flags = b[v4 ? 82 : 131]!;
  const inv = b[v4 ? 83 : 132]!;
  const h: Header = {
    fragment: v4 && (flags & F4_FRAG) !== 0,
    goto: (flags & (v4 ? F4_GOTO : F6_GOTO)) !== 0,
    invert: {
      source: (inv & INV_SRCIP) !== 0,
      destination: (inv & INV_DSTIP) !== 0,
      inInterface: (inv & INV_VIA_IN) !== 0,
      outInterface: (inv & INV_VIA_OUT) !== 0,
      protocol: (inv & INV_PROTO) !== 0,
      fragment: (inv & INV_FRAG) !== 0,
    },
  };
  if (v4) {
    // src dst smsk dmsk at 0 4 8 12
    for (const [key, a, m] of [['source', 0, 8], ['destination', 4, 12]] as const) {
      const addr = b.readUInt32BE(a);
      const mask = b.readUInt32BE(m);
      if (!mask && !addr && !h.invert[key]) continue;
      const len = maskLength4(mask);
      h[key] = `${ntop4(b, a)}/${len >= 0 ? len : ntop4(b, m)}`;
    }
  } else {
    for (const [key, a, m] of [['source', 0, 32], ['destination', 16, 48]] as const) {
      const len = maskLength6(b, m);
      if (!h.invert[key] && len === 0) continue;
      h[key] = `${ntop6(b, a)}/${len >= 0 ? len : ntop6(b, m)}`;
    }
  }
  const ifAt = v4 ? 16 : 64;
  const inIf = iface(b, ifAt, ifAt + 32);
  const outIf = iface(b, ifAt + 16, ifAt + 48);
  if (inIf !== undefined) h.inInterface = inIf;
  if (outIf !== undefined) h.outInterface = outIf;
  const proto = b.readUInt16LE(protoAt);
  if (proto > 0) h.protocol = protocolName(proto);
  return h;
}
