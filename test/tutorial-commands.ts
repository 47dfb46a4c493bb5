/**
 * The commands of the iptables tutorial this project grew from
 * (shared/seed-iptables-thread.txt), in order, as iptables arguments (after
 * the program name); `-t TABLE` first where the command is not filter's.
 */
import type { FamilyName } from '../src/native.js';

// Addresses fill the tutorial's blanks (`-s -j ACCEPT`): one set per family.
const ADDR = {
  ipv4: { host: '192.168.1.100', bad: '10.10.10.10', range: '192.168.1.100-192.168.1.200', eth1host: '10.0.0.5' },
  ipv6: { host: '2001:db8::100', bad: '2001:db8::bad', range: '2001:db8::100-2001:db8::200', eth1host: '2001:db8::5' },
};

export function tutorial(family: FamilyName): string[] {
  const a = ADDR[family];
  return [
    '-A INPUT -i lo -j ACCEPT',
    '-A INPUT -p tcp --dport 22 -j ACCEPT',
    '-A INPUT -p tcp --dport 80 -j ACCEPT',
    '-A INPUT -p tcp --dport 443 -j ACCEPT',
    `-A INPUT -s ${a.host} -j ACCEPT`,
    `-A INPUT -s ${a.bad} -j DROP`,
    `-A INPUT -m iprange --src-range ${a.range} -j DROP`,
    '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    '-A OUTPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT',
    '-A FORWARD -i eth1 -o eth0 -j ACCEPT',
    '-A INPUT -m conntrack --ctstate INVALID -j DROP',
    `-A INPUT -i eth1 -s ${a.eth1host} -j DROP`,
    '-A INPUT -j DROP',
    '-P FORWARD DROP',
    '-P INPUT DROP',
    '-P OUTPUT ACCEPT',
    // The commands the tutorial lists beyond those lines:
    '-I INPUT 2 -p udp --dport 53 -j ACCEPT',
    '-I INPUT -p tcp --dport 8080 -j REJECT',
    '-N services',
    '-A services -p tcp --dport 25 -j ACCEPT',
    '-A services -j RETURN',
    '-I INPUT 3 -j services',
    '-N logging',
    '-A logging -j QUEUE',
    '-A INPUT -g logging',
    '-E logging audit',
    '-R INPUT 1 -i lo -p tcp -j ACCEPT',
    '-D INPUT -p tcp --dport 80 -j ACCEPT',
    '-D INPUT 4',
    '-Z',
    '-Z INPUT 2',
    '-Z services',
    '-t nat -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80',
    '-t nat -A POSTROUTING -o eth0 -j MASQUERADE',
    '-t mangle -A FORWARD -j MARK --set-mark 0x1',
    '-t mangle -P FORWARD DROP',
    '-F audit',
    '-D INPUT -g audit',
    '-X audit',
    '-F',
    '-X',
  ];
}
