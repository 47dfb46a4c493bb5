import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchFields, Table, targetFields } from '../src/index.js';
import { scratch, type Scratch } from './helpers.js';

let s: Scratch;
beforeAll(() => {
  s = scratch();
  s.restore(`*filter
:INPUT ACCEPT [0:0]
-A INPUT -p tcp --sport 1024:65535 ! --dport 22 --tcp-flags SYN,ACK SYN -j ACCEPT
-A INPUT -p udp -m multiport --dports 53,67:68 -j ACCEPT
-A INPUT -m conntrack ! --ctstate NEW,INVALID --ctproto tcp -j ACCEPT
-A INPUT -m limit --limit 5/sec --limit-burst 7 -m comment --comment "five a second" -j LOG --log-prefix "in: " --log-uid
-A INPUT -p icmp --icmp-type echo-request -m iprange --src-range 10.0.0.1-10.0.0.9 -m mac --mac-source 00:11:22:33:44:55 -m mark --mark 0x1/0xff -j REJECT --reject-with icmp-host-prohibited
COMMIT
*nat
:POSTROUTING ACCEPT [0:0]
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.0.0.2:8080
-A POSTROUTING -o eth0 -p tcp -j MASQUERADE --to-ports 1024-2000 --random
COMMIT
`);
});
afterAll(() => s.close());

describe('typed fields of common extensions', () => {
  it('reads tcp, multiport, conntrack, limit, comment, icmp, iprange, mac, mark and the LOG, REJECT, DNAT, MASQUERADE targets', () => {
    const r = Table.openSync('filter', { netns: s.ns }).rules('INPUT');
    expect(matchFields(r[0]!, 'tcp')).toEqual({
      sport: { value: '1024:65535', invert: false },
      dport: { value: '22', invert: true },
      tcpFlags: { value: { mask: ['SYN', 'ACK'], compare: ['SYN'] }, invert: false },
    });
    expect(matchFields(r[1]!, 'multiport')?.dports).toEqual({ value: ['53', '67:68'], invert: false });
    expect(matchFields(r[2]!, 'conntrack')).toEqual({ ctstate: { value: ['INVALID', 'NEW'], invert: true }, ctproto: { value: '6', invert: false } });
    expect(matchFields(r[3]!, 'limit')).toEqual({ limit: { value: '5/sec', invert: false }, limitBurst: { value: 7, invert: false } });
    expect(matchFields(r[3]!, 'comment')?.comment?.value).toBe('five a second');
    expect(targetFields(r[3]!, 'LOG')).toEqual({ logPrefix: { value: 'in: ', invert: false }, logUid: { value: true, invert: false } });
    expect(matchFields(r[4]!, 'icmp')?.icmpType?.value).toBe('8');
    expect(matchFields(r[4]!, 'iprange')?.srcRange?.value).toBe('10.0.0.1-10.0.0.9');
    expect(matchFields(r[4]!, 'mac')?.macSource?.value).toBe('00:11:22:33:44:55');
    expect(matchFields(r[4]!, 'mark')?.mark?.value).toBe('0x1/0xff');
    expect(targetFields(r[4]!, 'REJECT')?.rejectWith?.value).toBe('icmp-host-prohibited');
    expect(targetFields(r[4]!, 'LOG')).toBeUndefined();
    expect(matchFields(r[4]!, 'tcp')).toBeUndefined();
    const nat = Table.openSync('nat', { netns: s.ns });
    expect(targetFields(nat.rules('PREROUTING')[0]!, 'DNAT')?.toDestination?.value).toBe('10.0.0.2:8080');
    expect(targetFields(nat.rules('POSTROUTING')[0]!, 'MASQUERADE')).toEqual({ toPorts: { value: '1024-2000', invert: false }, random: { value: true, invert: false } });
  });
});
