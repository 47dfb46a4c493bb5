/**
 * Rule sets the tests load with iptables-legacy-restore (the oracle) and read
 * back through iptc-node. These are inputs only: every expected output in the
 * tests comes from iptables-legacy-save run on the same namespace.
 */
import type { FamilyName } from '../src/native.js';
import type { TableName } from '../src/names.js';

export interface Fixture {
  family: FamilyName;
  table: TableName;
  text: string;
}

const filter4 = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:LOGDROP - [0:0]
:services - [0:0]
:empty - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p tcp --dport 80 -j ACCEPT
-A INPUT -p tcp --dport 443 -j ACCEPT
-A INPUT -s 192.168.1.0/24 -j ACCEPT
-A INPUT -s 10.1.2.3 -j DROP
-A INPUT ! -s 10.0.0.0/255.0.255.0 -j DROP
-A INPUT -d 172.16.0.0/12 ! -i eth+ -j RETURN
-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.50 -j DROP
-A INPUT -m iprange ! --dst-range 10.9.0.1-10.9.0.9 -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -m conntrack ! --ctstate NEW --ctproto tcp --ctorigsrc 1.2.3.4 -j ACCEPT
-A INPUT -m state --state NEW,UNTRACKED -j ACCEPT
-A INPUT -p tcp -m tcp --sport 1024:65535 --dport 3000:3010 --tcp-flags SYN,RST,ACK SYN -j ACCEPT
-A INPUT -p tcp ! --syn -j ACCEPT
-A INPUT -p tcp --tcp-option 8 -j ACCEPT
-A INPUT -p udp --sport 53 ! --dport 1:1023 -j ACCEPT
-A INPUT -p icmp --icmp-type echo-request -m limit --limit 5/sec --limit-burst 10 -j ACCEPT
-A INPUT -p icmp --icmp-type 3/4 -j ACCEPT
-A INPUT -p icmp ! --icmp-type any -j DROP
-A INPUT -p tcp -m multiport --dports 25,110,143:145 -j ACCEPT
-A INPUT -p udp -m multiport ! --sports 1,2,3 -j DROP
-A INPUT -p tcp -m multiport --ports 8080,8443 -j ACCEPT
-A INPUT -m comment --comment "a comment with spaces and \\"quotes\\"" -j ACCEPT
-A INPUT -m comment --comment plain -j ACCEPT
-A INPUT -m mark --mark 0x1/0xff -j ACCEPT
-A INPUT -m mark ! --mark 0x2 -j ACCEPT
-A INPUT -m mac --mac-source 00:11:22:33:44:55 -j DROP
-A INPUT -m mac ! --mac-source aa:bb:cc:dd:ee:ff -j ACCEPT
-A INPUT -m limit --limit 3/min -j LOGDROP
-A INPUT -m length --length 100:200 -j ACCEPT
-A INPUT -m pkttype --pkt-type broadcast -j DROP
-A INPUT -m addrtype --dst-type LOCAL -j ACCEPT
-A INPUT -m ttl --ttl-gt 60 -j ACCEPT
-A INPUT -m tos --tos 0x10/0x3f -j ACCEPT
-A INPUT -m dscp --dscp 0x0a -j ACCEPT
-A INPUT -m time --timestart 09:00:00 --timestop 17:00:00 --weekdays Mon,Tue,Wed -j ACCEPT
-A INPUT -m string --string "GET /admin" --algo bm --to 100 -j DROP
-A INPUT -m u32 --u32 "0x0>>0x16&0x3c@0x4&0xffff=0x50" -j ACCEPT
-A INPUT -m recent --set --name portscan --mask 255.255.255.255 --rsource
-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 20 --hashlimit-mode srcip --hashlimit-name hl1 -j ACCEPT
-A INPUT -p tcp -m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-saddr -j REJECT --reject-with tcp-reset
-A INPUT -m statistic --mode random --probability 0.25 -j ACCEPT
-A INPUT -m statistic --mode nth --every 3 --packet 1 -j ACCEPT
-A INPUT -m connmark --mark 0x5 -j ACCEPT
-A INPUT -m connbytes --connbytes 10:1000 --connbytes-mode bytes --connbytes-dir both -j ACCEPT
-A INPUT -m quota --quota 1000000 -j ACCEPT
-A INPUT -m helper --helper ftp -j ACCEPT
-A INPUT -m tcpmss --mss 1000:1500 -p tcp -j ACCEPT
-A INPUT -p sctp -m sctp --dport 9 -j ACCEPT
-A INPUT -p dccp -m dccp --sport 5 -j ACCEPT
-A INPUT -p esp -m esp --espspi 500 -j ACCEPT
-A INPUT -p ah -m ah --ahspi 600 -j ACCEPT
-A INPUT -p gre -j ACCEPT
-A INPUT -p 253 -j ACCEPT
-A INPUT ! -p udp -j ACCEPT
-A INPUT -f -j DROP
-A INPUT ! -f -s 1.1.1.1 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 23 -j REJECT --reject-with icmp-host-prohibited
-A INPUT -j REJECT
-A INPUT -j services
-A INPUT -g LOGDROP
-A INPUT -p tcp --dport 5000 -j QUEUE
-A INPUT -p tcp --dport 5001 -j NFQUEUE --queue-num 3 --queue-bypass
-A INPUT -j NFLOG --nflog-group 5 --nflog-prefix "nf log"
-A INPUT -p tcp --dport 999
-A FORWARD -i eth1 -o eth0 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
-A FORWARD -m physdev --physdev-in veth0 -j ACCEPT
-A OUTPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A OUTPUT -m owner --uid-owner 0 -j ACCEPT
-A OUTPUT -o lo -j ACCEPT
-A OUTPUT -j MARK --set-xmark 0x10/0xff
-A OUTPUT -j CONNMARK --save-mark
-A LOGDROP -j LOG --log-prefix "DROP: " --log-level 4 --log-tcp-options --log-ip-options --log-uid
-A LOGDROP -j DROP
-A services -p tcp --dport 25 -j ACCEPT
-A services -j RETURN
COMMIT
`;

const nat4 = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:portfw - [0:0]
-A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.2:80
-A PREROUTING -p tcp --dport 2222 -j DNAT --to-destination 10.0.0.3
-A PREROUTING -p udp --dport 5353 -j REDIRECT --to-ports 53
-A PREROUTING -j portfw
-A POSTROUTING -o eth0 -j MASQUERADE
-A POSTROUTING -o eth1 -p tcp -j MASQUERADE --to-ports 1024-2048 --random
-A POSTROUTING -s 10.0.0.0/8 -j SNAT --to-source 192.0.2.1-192.0.2.10 --persistent
-A POSTROUTING -d 198.51.100.0/24 -j NETMAP --to 203.0.113.0/24
-A OUTPUT -d 127.0.0.2 -p tcp -j DNAT --to-destination 127.0.0.3:8000-8010
-A portfw -p tcp --dport 81 -j DNAT --to-destination 10.0.0.9:8081
-A portfw -j RETURN
COMMIT
`;

const mangle4 = `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 22 -j TOS --set-tos 0x10/0x3f
-A PREROUTING -j MARK --set-mark 0x7
-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff
-A FORWARD -j DSCP --set-dscp 0x08
-A FORWARD -j TTL --ttl-set 64
-A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400
-A OUTPUT -j CLASSIFY --set-class 1:10
-A POSTROUTING -p udp -j CHECKSUM --checksum-fill
-A POSTROUTING -p tcp -j ECN --ecn-tcp-remove
COMMIT
`;

const raw4 = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp --dport 53 -j CT --notrack
-A PREROUTING -p tcp --dport 21 -j CT --helper ftp
-A OUTPUT -j NOTRACK
-A OUTPUT -p icmp -j TRACE
COMMIT
`;

const security4 = `*security
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 80 -j ACCEPT
-A OUTPUT -m conntrack --ctstate NEW -j ACCEPT
COMMIT
`;

const filter6 = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:icmp6ok - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -s 2001:db8::/32 -j ACCEPT
-A INPUT -s 2001:db8:0:1::5 -j DROP
-A INPUT ! -d fe80::/10 -j RETURN
-A INPUT -s ::ffff:10.0.0.1 -j DROP
-A INPUT -s 2001:db8::/ffff:ffff:0:ffff:: -j DROP
-A INPUT -d ::/0 -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -p ipv6-icmp --icmpv6-type echo-request -j ACCEPT
-A INPUT -p icmpv6 --icmpv6-type 1/3 -j icmp6ok
-A INPUT -p udp -m multiport --dports 546,547 -j ACCEPT
-A INPUT -m iprange --src-range 2001:db8::1-2001:db8::ff -j DROP
-A INPUT -m frag --fragid 5 --fragfirst -j DROP
-A INPUT -m hl --hl-eq 255 -j ACCEPT
-A INPUT -m rt --rt-type 0 -j DROP
-A INPUT -m ipv6header --header hop-by-hop --soft -j ACCEPT
-A INPUT -m mh -p mh --mh-type 5 -j ACCEPT
-A INPUT -m comment --comment "six" -j ACCEPT
-A INPUT -m limit --limit 10/min -j LOG --log-prefix "v6: "
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j REJECT --reject-with icmp6-adm-prohibited
-A FORWARD -i eth1 -o eth0 -j ACCEPT
-A OUTPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A icmp6ok -j ACCEPT
COMMIT
`;

const nat6 = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination [2001:db8::2]:80
-A PREROUTING -p tcp --dport 53 -j REDIRECT --to-ports 5353
-A POSTROUTING -o eth0 -j MASQUERADE
-A POSTROUTING -s fd00::/8 -j SNAT --to-source 2001:db8::1
-A POSTROUTING -s fd01::/64 -j NETMAP --to 2001:db8:1::/64
COMMIT
`;

const mangle6 = `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j MARK --set-mark 0x3
-A FORWARD -j HL --hl-set 64
-A POSTROUTING -j DSCP --set-dscp 0x2e
COMMIT
`;

const raw6 = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -j CT --notrack
COMMIT
`;

export const FIXTURES: Fixture[] = [
  { family: 'ipv4', table: 'filter', text: filter4 },
  { family: 'ipv4', table: 'nat', text: nat4 },
  { family: 'ipv4', table: 'mangle', text: mangle4 },
  { family: 'ipv4', table: 'raw', text: raw4 },
  { family: 'ipv4', table: 'security', text: security4 },
  { family: 'ipv6', table: 'filter', text: filter6 },
  { family: 'ipv6', table: 'nat', text: nat6 },
  { family: 'ipv6', table: 'mangle', text: mangle6 },
  { family: 'ipv6', table: 'raw', text: raw6 },
];
