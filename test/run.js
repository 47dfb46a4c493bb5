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
const missing = [];
if (!((eff >> CAP_NET_ADMIN) & 1n)) missing.push('CAP_NET_ADMIN');
if (!((eff >> CAP_SYS_ADMIN) & 1n)) missing.push('CAP_SYS_ADMIN');
if (missing.length) {
  console.error(`iptc-node tests: this process lacks ${missing.join(' and ')}; no test was run.
The tests create network namespaces and change firewall tables inside them
(never the machine's own). Run them as root (sudo npm test), or in the test
container: npm run test:docker.`);
  process.exit(1);
}
for (const t of ['iptables-legacy', 'iptables-legacy-save', 'iptables-legacy-restore', 'ip6tables-legacy', 'nsenter', 'ip']) {
  if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) {
    console.error(`iptc-node tests: ${t} is missing (Debian: apt-get install iptables iproute2 util-linux); no test was run.`);
    process.exit(1);
  }
}
const r = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
