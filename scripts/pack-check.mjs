// Run by docker/pack-test.sh in a fresh project where the tarball was
// installed (npm install, npm install --ignore-scripts or pnpm add) on a
// machine with no compiler: proves the installed package works through
// `import`, `require` and its `iptc` bin, and that its addon is the prebuild
// for this machine's architecture. Needs CAP_NET_ADMIN + CAP_SYS_ADMIN.
// Any failure throws (exit status 1) with what went wrong.
//
// PACK_CHECK_EMULATED (e.g. "qemu-user"): this Node runs under a CPU emulator.
// There, a commit the emulator refuses (it does not translate the iptables
// socket options) is reported as NOT PROVED instead of failing; everything
// before it (load, libxtables parse and print) must still pass.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Netns, Table, IptcError, parseRule, formatRule } from 'iptc-node';

const require = createRequire(import.meta.url);
const emulated = process.env.PACK_CHECK_EMULATED ?? '';
// pnpm links node_modules/iptc-node to its store: compare real paths.
const pkgDir = realpathSync(join(process.cwd(), 'node_modules', 'iptc-node'));
const pnpm = existsSync(join(process.cwd(), 'node_modules', '.pnpm'));
function check(ok, what, detail = '') {
  if (!ok) throw new Error(`pack-check FAILED: ${what}${detail ? '\n' + detail : ''}`);
  console.log(`ok: ${what}`);
}

// The addon is the prebuild for this architecture, and nothing was compiled at install.
const gypBuild = require(require.resolve('node-gyp-build', { paths: [pkgDir] }));
const addon = gypBuild.resolve(pkgDir);
check(addon.endsWith(`/prebuilds/linux-${process.arch}/iptc-node.glibc.node`),
  `the addon loads from the prebuild (${addon.slice(pkgDir.length + 1)}, node ${process.version} ${process.arch}${emulated ? ` under ${emulated}` : ''})`);
check(!existsSync(join(pkgDir, 'build')), 'no build/ directory: install compiled nothing');
for (const tool of ['cc', 'gcc', 'g++', 'c++', 'make', 'python3', 'python']) {
  check(spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0, `no ${tool} on this machine`);
}

const SPEC = '-s 192.0.2.1 -p tcp --dport 22 -j ACCEPT';
const RULE = '-A INPUT -s 192.0.2.1/32 -p tcp -m tcp --dport 22 -j ACCEPT';

// Without the kernel: libxtables (and its extensions, loaded from the system)
// parses and prints, as iptables-save would.
check(formatRule(parseRule(SPEC)) === RULE.slice('-A INPUT '.length), 'import: libxtables parses and prints a rule');

// import: append, commit, read back in a new namespace.
const ns = Netns.create();
const t = Table.openSync('filter', { netns: ns });
check(t.chains().length === 3, 'import: a new namespace has filter INPUT, FORWARD, OUTPUT');
t.append('INPUT', SPEC);
check(t.save().includes(RULE), 'import: the appended rule prints before the commit');
let committed = true;
try {
  t.commitSync();
} catch (e) {
  // ENOPROTOOPT is also what a kernel without ip_tables says; pack-test.sh
  // only sets PACK_CHECK_EMULATED after the same kernel took the native commit.
  if (!emulated || e?.code !== 'ENOPROTOOPT') throw e;
  committed = false;
  console.log(`NOT PROVED under ${emulated}: committing and reading a table in the kernel (${e.syscall} refused: ${e.message})`);
}
if (committed) {
  const esmSave = Table.openSync('filter', { netns: ns }).save();
  check(esmSave.includes(RULE), 'import: the committed rule reads back', esmSave);
}
let err;
try { Table.openSync('no-such-table', { netns: ns }); } catch (e) { err = e; }
check(err instanceof IptcError, 'import: errors are IptcError');

// require, from a CommonJS file: same, in its own namespace (a commit only
// where the kernel can be reached), and the same module as import's.
writeFileSync('require-check.cjs', `
  const { Table, Netns, parseRule, formatRule } = require('iptc-node');
  if (formatRule(parseRule('-p udp --dport 53 -j DROP')) !== '-p udp -m udp --dport 53 -j DROP') throw new Error('require: parse/print differs');
  if (process.argv[2] === 'commit') {
    const ns = Netns.create();
    const t = Table.openSync('filter', { netns: ns });
    if (t.chains().length !== 3) throw new Error('require: expected 3 chains, got ' + t.chains().length);
    t.append('INPUT', '-s 192.0.2.2 -j DROP').commitSync();
    const save = Table.openSync('filter', { netns: ns }).save();
    if (!save.includes('-A INPUT -s 192.0.2.2/32 -j DROP')) throw new Error('require: rule not read back:\\n' + save);
  }
  import('iptc-node').then((m) => {
    if (m.Table !== Table) throw new Error('require and import gave two copies of the module');
    console.log('require ok: ' + require.resolve('iptc-node'));
  });
`);
const cjs = spawnSync(process.execPath, ['require-check.cjs', committed ? 'commit' : 'load'], { encoding: 'utf8' });
check(cjs.status === 0 && cjs.stderr === '',
  `require: ${committed ? 'the committed rule reads back' : 'loads and parses/prints'}, same module as import`, cjs.stdout + cjs.stderr);
check(realpathSync(cjs.stdout.trim().replace(/^require ok: /, '')) === join(pkgDir, 'dist', 'cjs.cjs'), 'require: resolves to dist/cjs.cjs');

// The bin, as a user runs it (pnpm's or npm's runner), on the namespace
// import wrote to (where the commit was refused: the table as it reads).
const [runner, ...runArgs] = pnpm ? ['pnpm', 'exec'] : ['npx', '--no'];
const save = (...more) => spawnSync(runner, [...runArgs, 'iptc', 'save', '-t', 'filter', ...more], { encoding: 'utf8' });
let bin = save('--netns', ns.path);
if (emulated && bin.status !== 0 && bin.stderr.includes('is not a network namespace')) {
  // qemu-user does not pass ioctl(NS_GET_NSTYPE) through: the namespace
  // check refuses the path. Read the container's own namespace instead.
  console.log(`NOT PROVED under ${emulated}: --netns PATH (${bin.stderr.trim()}); iptc save reads the container's own namespace instead`);
  bin = save();
}
check(bin.status === 0 && bin.stdout.includes('*filter') && (!committed || bin.stdout.includes(RULE)),
  `${runner} ${runArgs.join(' ')} iptc save prints ${committed ? 'the committed rule' : 'the table'}`, bin.stdout + bin.stderr);
ns.close();
console.log(`pack-check: all good (node ${process.version} ${process.arch}${emulated ? `, under ${emulated}, ${committed ? 'kernel commit proved' : 'kernel commit NOT proved'}` : ''})`);
