#!/usr/bin/env node
// The container half of the way out (see egress-proxy.mjs): 127.0.0.1:3128
// inside the container's own network namespace, forwarded to the proxy's
// unix socket mounted at /egress/proxy.sock.
import net from 'node:net';

const socket = process.argv[2] ?? '/egress/proxy.sock';
net
  .createServer((c) => {
    const up = net.connect(socket);
    up.on('error', () => c.destroy());
    c.on('error', () => up.destroy());
    c.pipe(up);
    up.pipe(c);
  })
  .listen(3128, '127.0.0.1');
