// npm run demo: the firewall of the iptables tutorial this project grew from,
// committed by iptc-node in a scratch network namespace, with a little real
// traffic through it, shown with `iptc list` and a few seconds of `iptc top`.
// Two namespaces joined by a veth pair: "client" sends, "server" filters.
// The machine's own firewall is never touched. Needs root.
// (The demo itself runs `ip` and `nsenter` to build links and make traffic;
// the library never spawns anything.)
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Netns, restore } from 'iptc-node';

const iptc = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const tag = `iptcdemo${process.pid}`;
const sh = (...args) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] }).toString();

const firewall = (family) => `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p tcp --dport 80 -j ACCEPT
-A INPUT -p tcp --dport 443 -j ACCEPT
${family === 'ipv6' ? '-A INPUT -p ipv6-icmp -j ACCEPT\n' : ''}-A OUTPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT
COMMIT
`;

const server = `${tag}s`;
const client = `${tag}c`;
const children = [];
try {
  sh('ip', 'netns', 'add', server);
  sh('ip', 'netns', 'add', client);
  sh('ip', 'link', 'add', `${tag}a`, 'netns', server, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', client);
  for (const [ns, dev, v4, v6] of [[server, `${tag}a`, '10.77.0.1/24', 'fd77::1/64'], [client, `${tag}b`, '10.77.0.2/24', 'fd77::2/64']]) {
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', ns, 'addr', 'add', v4, 'dev', dev);
    sh('ip', '-n', ns, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad');
    sh('ip', '-n', ns, 'link', 'set', dev, 'up');
  }

  // The tutorial's firewall, both families, committed in-process.
  const ns = Netns.open(server);
  await restore(firewall('ipv4'), { netns: ns });
  await restore(firewall('ipv6'), { family: 'ipv6', netns: ns });
  ns.close();

  // Servers on 22, 80 and 443 inside the server namespace; a client that
  // keeps connecting (and knocking on a closed port, 23, which the policy drops).
  children.push(spawn('ip', ['netns', 'exec', server, process.execPath, '-e',
    `for (const p of [22, 80, 443]) for (const h of ['10.77.0.1', 'fd77::1']) require('net').createServer(s => s.end('hello\\n')).listen(p, h);`], { stdio: 'ignore' }));
  await new Promise((r) => setTimeout(r, 500));
  children.push(spawn('ip', ['netns', 'exec', client, process.execPath, '-e', `
    const net = require('net');
    const hit = (h, p) => { const s = net.connect({ host: h, port: p, timeout: 200 }); s.on('error', () => {}); s.on('timeout', () => s.destroy()); s.on('data', () => s.end()); };
    setInterval(() => { for (const p of [22, 80, 80, 443, 23]) { hit('10.77.0.1', p); hit('fd77::1', p); } }, 50);`], { stdio: 'ignore' }));
  await new Promise((r) => setTimeout(r, 1500));

  console.log('$ iptc list --netns', server);
  process.stdout.write(sh(process.execPath, iptc, 'list', '--netns', server));
  console.log(`$ iptc list -6 --netns ${server} INPUT`);
  process.stdout.write(sh(process.execPath, iptc, 'list', '-6', '--netns', server, 'INPUT'));
  console.log(`$ iptc top --netns ${server} --interval 1000 --count 3 --rows 8`);
  await new Promise((resolve) => {
    const t = spawn(process.execPath, [iptc, 'top', '--netns', server, '--interval', '1000', '--count', '3', '--rows', '8'], { stdio: ['ignore', 'inherit', 'inherit'] });
    t.on('exit', resolve);
  });
} finally {
  for (const c of children) c.kill();
  for (const ns of [client, server]) {
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {
      // already gone
    }
  }
}
