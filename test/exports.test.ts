/**
 * The package's entry points as a consumer meets them: `import` and
 * `require('iptc-node')` through package.json "exports" (self-reference from
 * the package root, so the built dist/ is what runs: npm test builds first),
 * and the declarations TypeScript picks for a .mts and a .cts file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Consumers' declarations are checked by TypeScript 5 (tsc) and by TypeScript 7
// (the Go compiler; devDependency typescript7 is npm:typescript@7).
const compilers = ['typescript', 'typescript7'].map((p) => join(dirname(createRequire(import.meta.url).resolve(`${p}/package.json`)), 'bin/tsc'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// What each child prints: the export names, where the entry resolved, and a
// tiny read of a fresh namespace's filter table.
const REPORT = `{
  const ns = m.Netns.create();
  let chains;
  try { chains = m.Table.openSync('filter', { netns: ns }).chains().length; } finally { ns.close(); }
  console.log(JSON.stringify({ keys: Object.keys(m).sort(), resolved, chains }));
}`;
const CJS = `const m = require('iptc-node'); const resolved = require.resolve('iptc-node'); ${REPORT}`;
const ESM = `const m = await import('iptc-node'); const resolved = import.meta.resolve('iptc-node'); ${REPORT}`;

function node(args: string[], cwd = root): { keys: string[]; resolved: string; chains: number } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  expect(r.status, `node ${args.join(' ')}\n${r.stderr}`).toBe(0);
  expect(r.stderr).toBe(''); // no ExperimentalWarning, no addon noise
  return JSON.parse(r.stdout);
}

describe('package entry points', () => {
  it('every file package.json points at exists after the build', () => {
    const targets = [pkg.main, pkg.types, pkg.bin.iptc];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') targets.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(pkg.exports);
    for (const t of targets) expect(existsSync(join(root, t)), t).toBe(true);
    expect(pkg.files).toContain('prebuilds');
  });

  it('require and import give the same exports, and both read a table', () => {
    const cjs = node(['-e', CJS]);
    const esm = node(['--input-type=module', '-e', ESM]);
    expect(cjs.resolved).toBe(join(root, 'dist/cjs.cjs'));
    expect(esm.resolved).toBe('file://' + join(root, 'dist/index.js'));
    expect(cjs.keys).toEqual(esm.keys);
    for (const name of ['Table', 'Netns', 'IptcError', 'isIptcError', 'restore', 'saveAll', 'parseRule', 'formatRule', 'TABLES']) {
      expect(cjs.keys).toContain(name);
    }
    expect(cjs.chains).toBe(3);
    expect(esm.chains).toBe(3);
  });

  it('require and import share one module: same classes, errors instanceof across both', () => {
    const r = spawnSync(process.execPath, ['-e', `
      const c = require('iptc-node');
      import('iptc-node').then((e) => {
        let err;
        try { e.Table.openSync('no-such-table'); } catch (x) { err = x; }
        console.log(JSON.stringify([c === e, c.Table === e.Table, err instanceof c.IptcError, c.isIptcError(err)]));
      });`], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([true, true, true, true]);
  });

  describe('declarations', () => {
    // A consumer project: node_modules/iptc-node links to this package, as
    // npm link would; @types/node comes from ours.
    const dir = mkdtempSync(join(tmpdir(), 'iptc-types-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a .cts file gets dist/cjs.d.cts, a .mts file dist/index.d.ts, and both type-check', () => {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(root, join(dir, 'node_modules', 'iptc-node'), 'dir');
      writeFileSync(join(dir, 'package.json'), '{ "name": "consumer", "private": true }\n');
      writeFileSync(join(dir, 'consumer.cts'), `
        import { Table, Netns, IptcError, type TableName } from 'iptc-node';
        import iptc = require('iptc-node');
        const ns = Netns.create();
        const name: TableName = 'filter';
        const chains: number = Table.openSync(name, { netns: ns }).chains().length;
        const same: typeof Table = iptc.Table;
        const e: IptcError | undefined = undefined;
        // @ts-expect-error a table name is a string: the types are real, not any
        Table.openSync(42);
        export = { chains, same, e };
      `);
      writeFileSync(join(dir, 'consumer.mts'), `
        import { Table, Netns, IptcError, type TableName } from 'iptc-node';
        const m = await import('iptc-node');
        const ns = Netns.create();
        const name: TableName = 'filter';
        export const chains: number = (await Table.open(name, { netns: ns })).chains().length;
        export const same: typeof Table = m.Table;
        export const e: IptcError | undefined = undefined;
        // @ts-expect-error a table name is a string: the types are real, not any
        Table.openSync(42);
      `);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true,
          // Our own declarations are checked too (a consumer may not skip them); @types/node is not ours.
          skipLibCheck: false, skipDefaultLibCheck: true,
          types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
        },
        files: ['consumer.cts', 'consumer.mts'],
      }));
      for (const tsc of compilers) {
        const r = spawnSync(process.execPath, [tsc, '-p', dir, '--explainFiles'], { cwd: dir, encoding: 'utf8' });
      const out = r.stdout + r.stderr;
      expect(r.status, `${tsc}: ${out}`).toBe(0);
      // --explainFiles: each file, then indented lines saying who imported it.
      const importers = (file: string) => {
        const m = new RegExp(`^\\S*${file.replace('.', '\\.')}\\n((?:\\s+.*\\n)*)`, 'm').exec(out);
        expect(m, `${file} not among the program's files:\n${out}`).not.toBeNull();
        return m![1];
      };
      expect(importers('dist/cjs.d.cts')).toMatch(/Imported via 'iptc-node' from file '[^']*consumer\.cts'/);
      expect(importers('dist/index.d.ts')).toMatch(/Imported via 'iptc-node' from file '[^']*consumer\.mts'/);
      expect(importers('dist/index.d.ts')).not.toMatch(/from file '[^']*consumer\.cts'/);
      }
    });
  });

  it('the declarations need no @types/node: a strict consumer with "types": [] type-checks them, and its uses of the API', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iptc-notypes-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(root, join(dir, 'node_modules', 'iptc-node'), 'dir');
      writeFileSync(join(dir, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
      writeFileSync(join(dir, 'consumer.ts'), `
        import { Table, Netns, IptcError, listTable, listTables, restore, CounterReader, jsonReplacer, parseRule, tableFromTextSync, watch, metricsSync, restoreSync, type Validation, type UpdateOptions, type CompareOptions, type SaveOptions, type ValidateOptions, type CounterReaderOptions, type NftTablesOptions, type ListSpecsOptions, type RestoreSyncOptions, type Policy, type TableChangeBase, type DecodedRule, type IptcErrorCode, type TableName } from 'iptc-node';
        const t: Table = await Table.open('filter');
        const rules: DecodedRule[] = t.rules('INPUT');
        const text: string = listTable(t, { exact: true });
        const signal = { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} };
        await t.commit({ lockTimeout: 5, signal });
        const [check] = await restore('*filter\\nCOMMIT\\n', { dryRun: true });
        const ok: boolean = check!.ok;
        const code: IptcErrorCode = new IptcError('x', { code: 'ERR_IPTC_NO_CHAIN' }).code;
        const counters: string = JSON.stringify((await new CounterReader('filter').read()).counters, jsonReplacer);
        using ns = Netns.create();
        // @ts-expect-error not an error code
        const bad: IptcErrorCode = 'ERR_IPTC_NOPE';
        // Table names are the TableName union wherever one is taken, and given back as one.
        for (const name of await listTables()) await Table.open(name, { ifMissing: 'error' });
        const names: TableName[] = [t.name, (await restore('', { dryRun: true }))[0]?.table ?? 'nat', new CounterReader('raw').table];
        // @ts-expect-error not a table
        await Table.open('nosuch');
        // @ts-expect-error not a table
        Table.openSync('Filter');
        // @ts-expect-error not a table
        await Table.update('nosuch', {}, () => {});
        // @ts-expect-error not a table
        Table.updateSync('nosuch', {}, () => {});
        // @ts-expect-error not a table
        new CounterReader('nosuch');
        // @ts-expect-error not a table
        await restore('', { table: 'nosuch' });
        // @ts-expect-error not a table
        parseRule('-j ACCEPT', { table: 'nosuch' });
        // @ts-expect-error not a table
        tableFromTextSync('', { table: 'nosuch' });
        // @ts-expect-error not a table
        watch('nosuch');
        // @ts-expect-error not a table
        metricsSync({ tables: ['nosuch'] });
        // restore()'s result follows dryRun, also when it is only known at run time; restoreSync() has none.
        const flag: boolean = Math.random() < 0.5;
        const either: Validation[] | undefined = await restore('', { dryRun: flag });
        // @ts-expect-error dryRun: boolean may commit and give nothing
        const notAlways: Validation[] = await restore('', { dryRun: flag });
        const nothing: void = await restore('', { dryRun: false });
        const checks: Validation[] = await restore('', { dryRun: true });
        // @ts-expect-error no dry run on the calling thread
        restoreSync('', { dryRun: true });
        // Every options type a public call takes has a name of its own.
        const named: [UpdateOptions, CompareOptions, SaveOptions, ValidateOptions, CounterReaderOptions, NftTablesOptions, ListSpecsOptions, RestoreSyncOptions] = [{ retries: 1 }, { noflush: true }, { counters: true }, {}, { family: 'ipv6' }, {}, { chain: 'INPUT' }, { noflush: true }];
        const policy: Policy | undefined = t.chains()[0]?.policy;
        const change: TableChangeBase | undefined = undefined;
        export { rules, text, ok, code, counters, ns, bad, names, either, notAlways, nothing, checks, named, policy, change };
      `);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false,
          // No Node types at all; the lib a \`using\` declaration needs anyway.
          types: [], lib: ['es2022', 'esnext.disposable'],
        },
        files: ['consumer.ts'],
      }));
      for (const tsc of compilers) {
        const r = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
        expect(r.status, `${tsc}: ${r.stdout}${r.stderr}`).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm pack refuses a tarball without the prebuilt addon or dist/, naming the command that makes one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iptc-prepack-'));
    try {
      mkdirSync(join(dir, 'scripts'));
      writeFileSync(join(dir, 'scripts', 'prepack-check.mjs'), readFileSync(join(root, 'scripts', 'prepack-check.mjs')));
      const check = () => spawnSync(process.execPath, [join(dir, 'scripts', 'prepack-check.mjs')], { encoding: 'utf8' });
      let r = check();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/not packing without prebuilds\/linux-x64\/\*\.node .*prebuilds\/linux-arm64\/\*\.node .*dist\/index\.js/);
      expect(r.stderr).toContain('npm run prebuilds -- --pack DIR');
      for (const f of ['dist/cli', 'prebuilds/linux-x64', 'prebuilds/linux-arm64']) mkdirSync(join(dir, f), { recursive: true });
      for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cjs.cjs', 'dist/cli/main.js', 'prebuilds/linux-x64/iptc-node.glibc.node']) writeFileSync(join(dir, f), '');
      // One architecture is not enough: an arm64 user would need a compiler.
      r = check();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/not packing without prebuilds\/linux-arm64\/\*\.node \(the prebuilt addon\)\.\n/);
      writeFileSync(join(dir, 'prebuilds/linux-arm64/iptc-node.glibc.node'), '');
      r = check();
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.prepack).toBe('node scripts/prepack-check.mjs');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
