#!/usr/bin/env node
// The host half of the test container's only way out. The container runs
// with --network none (a network namespace holding only lo, so nothing it
// does can reach the host's firewall), yet the README's set-up command must
// fetch Debian packages and npm modules. This is an HTTP proxy listening on
// a unix socket that the container gets as a bind mount; egress-forward.mjs
// inside turns it back into 127.0.0.1:3128 for apt (http_proxy) and npm
// (https_proxy). CONNECT for TLS, absolute-form requests for plain HTTP
// (apt), one request per connection.
//   node docker/egress-proxy.mjs SOCKET_PATH
import net from 'node:net';
import { rmSync } from 'node:fs';

const path = process.argv[2];
if (!path) {
  console.error('usage: egress-proxy.mjs SOCKET_PATH');
  process.exit(2);
}

function splice(client, upstream, first) {
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  upstream.on('connect', () => {
    if (first) upstream.write(first);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
}

function refuse(client, status) {
  client.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

const server = net.createServer((client) => {
  let head = Buffer.alloc(0);
  const onData = (d) => {
    head = Buffer.concat([head, d]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > 65536) client.destroy();
      return;
    }
    client.off('data', onData);
    client.pause();
    const [line = '', ...fields] = head.subarray(0, end).toString('latin1').split('\r\n');
    const rest = head.subarray(end + 4);
    const [method, target = '', version = 'HTTP/1.1'] = line.split(' ');
    if (method === 'CONNECT') {
      const at = target.lastIndexOf(':');
      const upstream = net.connect(Number(target.slice(at + 1)) || 443, target.slice(0, at));
      upstream.on('connect', () => client.write('HTTP/1.1 200 Connection established\r\n\r\n'));
      splice(client, upstream, rest);
      return;
    }
    let url;
    try {
      url = new URL(target);
    } catch {
      refuse(client, '400 Bad Request');
      return;
    }
    if (url.protocol !== 'http:') {
      refuse(client, '501 Not Implemented');
      return;
    }
    const kept = fields.filter((f) => !/^(proxy-connection|connection|keep-alive)\s*:/i.test(f));
    const request = `${method} ${url.pathname}${url.search} ${version}\r\n${[...kept, 'Connection: close'].join('\r\n')}\r\n\r\n`;
    splice(client, net.connect(Number(url.port) || 80, url.hostname), Buffer.concat([Buffer.from(request, 'latin1'), rest]));
  };
  client.on('data', onData);
  client.on('error', () => {});
});

rmSync(path, { force: true });
server.listen(path, () => console.error(`egress proxy on ${path}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
