#!/usr/bin/env node
// Runs the test suite. The tests drive the real kernel in scratch network
// namespaces and compare with the real iptables-legacy tools, so they need
// CAP_NET_ADMIN and CAP_SYS_ADMIN and the iptables package. Without them
// this says so and fails: it never reports a pass for tests it did not run.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const eff = BigInt('0x' + (/^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'));
const lacking = [];
if (!((eff >> CAP_NET_ADMIN) & 1n)) lacking.push('CAP_NET_ADMIN');
if (!((eff >> CAP_SYS_ADMIN) & 1n)) lacking.push('CAP_SYS_ADMIN');
if (lacking.length) {
  console.error(`iptc-node tests: this process lacks ${lacking.join(' and ')}; no test was run.
The tests create network namespaces and change firewall tables inside them
(never the machine's own). Run them as root (sudo npm test), or in the test
container: npm run test:docker.`);
  process.exit(1);
}
// Every program the tests (and the oracle) run, and the Debian package that
// has it (all of them are in debian-packages.txt). Checked before anything
// runs: one message naming what is missing, not a run of exit-127 failures.
const TOOLS = {
  'iptables-legacy': 'iptables', 'iptables-legacy-save': 'iptables', 'iptables-legacy-restore': 'iptables',
  'ip6tables-legacy': 'iptables', 'ip6tables-legacy-save': 'iptables', 'ip6tables-legacy-restore': 'iptables',
  'iptables-nft': 'iptables', 'iptables-nft-save': 'iptables', 'ip6tables-nft': 'iptables',
  ip: 'iproute2', nsenter: 'util-linux', unshare: 'util-linux', flock: 'util-linux', setpriv: 'util-linux',
  mount: 'mount', ping: 'iputils-ping', sysctl: 'procps', nft: 'nftables', cc: 'build-essential',
  prometheus: 'prometheus', promtool: 'prometheus',
};
const missing = Object.keys(TOOLS).filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
if (missing.length) {
  const packages = [...new Set(missing.map((t) => TOOLS[t]))];
  console.error(`iptc-node tests: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing; no test was run.
Install ${packages.join(' ')} (Debian: apt-get install -y ${packages.join(' ')}),
or everything the project needs: apt-get install -y $(sed 's/#.*//' debian-packages.txt)`);
  process.exit(1);
}
const r = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
