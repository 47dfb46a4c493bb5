// Run by docker/pack-test.sh in a fresh project where `npm install
// iptc-node-x.y.z.tgz` was done on a machine with no compiler: proves the
// installed package works through `import`, `require` and its `iptc` bin,
// and that its addon is the prebuild. Needs CAP_NET_ADMIN + CAP_SYS_ADMIN.
// Any failure throws (exit status 1) with what went wrong.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Netns, Table, IptcError } from 'iptc-node';

const require = createRequire(import.meta.url);
const pkgDir = join(process.cwd(), 'node_modules', 'iptc-node');
function check(ok, what, detail = '') {
  if (!ok) throw new Error(`pack-check FAILED: ${what}${detail ? '\n' + detail : ''}`);
  console.log(`ok: ${what}`);
}

// The addon is the prebuild, and nothing was compiled at install.
const gypBuild = require(require.resolve('node-gyp-build', { paths: [pkgDir] }));
const addon = gypBuild.resolve(pkgDir);
check(/\/prebuilds\/linux-x64\/[^/]+\.node$/.test(addon), `the addon loads from the prebuild (${addon.slice(pkgDir.length + 1)})`);
check(!existsSync(join(pkgDir, 'build')), 'no build/ directory: install compiled nothing');
for (const tool of ['cc', 'gcc', 'g++', 'c++', 'make', 'python3', 'python']) {
  check(spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0, `no ${tool} on this machine`);
}

const RULE = '-A INPUT -s 192.0.2.1/32 -p tcp -m tcp --dport 22 -j ACCEPT';

// import: append, commit, read back in a new namespace.
const ns = Netns.create();
const t = Table.openSync('filter', { netns: ns });
check(t.chains().length === 3, 'import: a new namespace has filter INPUT, FORWARD, OUTPUT');
t.append('INPUT', '-s 192.0.2.1 -p tcp --dport 22 -j ACCEPT').commitSync();
const esmSave = Table.openSync('filter', { netns: ns }).save();
check(esmSave.includes(RULE), 'import: the committed rule reads back', esmSave);
let err;
try { Table.openSync('no-such-table', { netns: ns }); } catch (e) { err = e; }
check(err instanceof IptcError, 'import: errors are IptcError');

// require, from a CommonJS file: same, in its own namespace, and the same
// module as import's.
writeFileSync('require-check.cjs', `
  const { Table, Netns } = require('iptc-node');
  const ns = Netns.create();
  const t = Table.openSync('filter', { netns: ns });
  if (t.chains().length !== 3) throw new Error('require: expected 3 chains, got ' + t.chains().length);
  t.append('INPUT', '-s 192.0.2.2 -j DROP').commitSync();
  const save = Table.openSync('filter', { netns: ns }).save();
  if (!save.includes('-A INPUT -s 192.0.2.2/32 -j DROP')) throw new Error('require: rule not read back:\\n' + save);
  import('iptc-node').then((m) => {
    if (m.Table !== Table) throw new Error('require and import gave two copies of the module');
    console.log('require ok: ' + require.resolve('iptc-node'));
  });
`);
const cjs = spawnSync(process.execPath, ['require-check.cjs'], { encoding: 'utf8' });
check(cjs.status === 0 && cjs.stderr === '', 'require: the committed rule reads back, same module as import', cjs.stdout + cjs.stderr);
check(realpathSync(cjs.stdout.trim().replace(/^require ok: /, '')) === join(pkgDir, 'dist', 'cjs.cjs'), 'require: resolves to dist/cjs.cjs');

// The bin, as a user runs it, on the namespace import wrote to.
const bin = spawnSync('npx', ['--no', 'iptc', 'save', '-t', 'filter', '--netns', ns.path], { encoding: 'utf8' });
check(bin.status === 0 && bin.stdout.includes(RULE) && bin.stdout.includes('*filter'),
  'npx iptc save prints the committed rule', bin.stdout + bin.stderr);
ns.close();
console.log(`pack-check: all good (node ${process.version})`);
