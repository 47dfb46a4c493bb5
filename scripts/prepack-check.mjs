#!/usr/bin/env node
// npm pack / npm publish (prepack): refuses to make a tarball that would
// leave users without the prebuilt addon (they would need a compiler and the
// -dev packages to install it) or without dist/. `npm run prebuilds -- --pack
// DIR` builds the addon in Debian bookworm and packs from there; this guard
// is what makes a plain `npm pack` in the work tree say so instead of
// shipping a tarball that builds from source.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const missing = [];
for (const arch of ['x64', 'arm64']) {
  const prebuilds = join(root, 'prebuilds', `linux-${arch}`);
  if (!existsSync(prebuilds) || !readdirSync(prebuilds).some((f) => f.endsWith('.node'))) missing.push(`prebuilds/linux-${arch}/*.node (the prebuilt addon)`);
}
for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cjs.cjs', 'dist/cli/main.js']) if (!existsSync(join(root, f))) missing.push(f);
if (missing.length) {
  console.error(`iptc-node: not packing without ${missing.join(', ')}.
Make the tarball with: npm run prebuilds -- --pack DIR
(it builds the addon for x64 and arm64 in Debian bookworm, and packs them with dist/).`);
  process.exit(1);
}
