/**
 * Hover docs are the reference (issue 11 §3): every public class, function,
 * constant and `*Sync` twin, and every public method, static and getter of an
 * exported class, carries a TSDoc comment with an `@example`. Read from the
 * built declarations a consumer's editor reads (dist/index.d.ts and what it
 * re-exports; npm test builds first), so `@internal`, private and protected
 * members are out as they are for users. Each overload is a declaration of
 * its own: hover shows the doc of the overload that was picked.
 *
 * And no example lies about the API: each @example's ```ts blocks become
 * modules of a strict consumer project that imports 'iptc-node' (linked to
 * this package, as in exports.test.ts) and tsc (TypeScript 5 and 7) must
 * type-check them all.
 * Type aliases and interfaces need no example; those they have are checked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'index.d.ts');
// The examples are checked by TypeScript 5 and 7, as consumers' declarations are in exports.test.ts.
const compilers = ['typescript', 'typescript7'].map((p) => join(dirname(createRequire(import.meta.url).resolve(`${p}/package.json`)), 'bin/tsc'));

/** One declaration a user can hover: its display name; required: it must have an example. */
interface Documented {
  name: string;
  node: ts.Node;
  required: boolean;
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);
}

function tags(node: ts.Node): readonly ts.JSDocTag[] {
  return ts.getJSDocTags(node);
}

const isInternal = (node: ts.Node) => tags(node).some((t) => t.tagName.text === 'internal');

/** A class and the classes it extends (Table's commands are in TableCommands), nearest first. */
function withBases(d: ts.ClassDeclaration): ts.ClassDeclaration[] {
  const out = [d];
  for (const h of d.heritageClauses ?? []) {
    if (h.token !== ts.SyntaxKind.ExtendsKeyword) continue;
    for (const t of h.types) {
      const base = checker!.getTypeAtLocation(t.expression).getSymbol()?.declarations?.find(ts.isClassDeclaration);
      if (base) out.push(...withBases(base));
    }
  }
  return out;
}

let checker: ts.TypeChecker | undefined;

/** Every declaration the package entry exports, and the members of its classes (theirs and their bases'). */
function publicDeclarations(): Documented[] {
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, types: [],
  });
  checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const out: Documented[] = [];
  const seen = new Set<ts.Node>();
  const add = (name: string, node: ts.Node, required: boolean) => {
    if (seen.has(node) || isInternal(node)) return;
    seen.add(node);
    out.push({ name, node, required });
  };
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const d of symbol.declarations ?? []) {
      if (!d.getSourceFile().fileName.startsWith(join(root, 'dist'))) continue;
      if (ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d)) {
        add(exported.name, d, false);
      } else if (ts.isFunctionDeclaration(d) || ts.isVariableDeclaration(d)) {
        add(exported.name, d, true);
      } else if (ts.isClassDeclaration(d)) {
        add(exported.name, d, true);
        for (const m of withBases(d).flatMap((c) => [...c.members])) {
          if (!(ts.isMethodDeclaration(m) || ts.isGetAccessorDeclaration(m) || ts.isSetAccessorDeclaration(m))) continue;
          if (!m.name || ts.isPrivateIdentifier(m.name)) continue;
          if (hasModifier(m, ts.SyntaxKind.PrivateKeyword) || hasModifier(m, ts.SyntaxKind.ProtectedKeyword)) continue;
          const member = ts.isComputedPropertyName(m.name) ? `[${m.name.expression.getText()}]` : m.name.getText();
          const isStatic = hasModifier(m, ts.SyntaxKind.StaticKeyword);
          add(`${exported.name}${isStatic ? '.' : '#'}${member}`, m, true);
        }
      }
    }
  }
  return out;
}

/** file:line of a declaration in dist/. */
function where(node: ts.Node): string {
  const sf = node.getSourceFile();
  return `${sf.fileName.slice(root.length + 1)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
}

/** A hint for failure messages when dist/ is older than a source file (vitest run without npm run build). */
function stale(): string {
  const built = statSync(entry).mtimeMs;
  const newer = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && statSync(join(root, 'src', f)).mtimeMs > built);
  return newer.length ? ` (dist/ is older than src/${newer[0]}${newer.length > 1 ? ` and ${newer.length - 1} more` : ''}: npm run build)` : '';
}

const examples = (node: ts.Node) => tags(node).filter((t) => t.tagName.text === 'example');

/** The ```ts blocks of an @example tag's text. */
function codeBlocks(tag: ts.JSDocTag): string[] {
  const text = ts.getTextOfJSDocComment(tag.comment) ?? '';
  return [...text.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe('TSDoc', () => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: npm run build first`);
  const declarations = publicDeclarations();

  it('finds the public API in the declarations', () => {
    const names = new Set(declarations.map((d) => d.name));
    for (const n of ['Table', 'Table.open', 'Table.openSync', 'Table#append', 'Table#commitSync', 'Table#dirty', 'restoreSync', 'Netns', 'CounterReader#read', 'IptcError']) {
      expect(names, n).toContain(n);
    }
  });

  it('every public class, function, constant, method, static and getter has a TSDoc @example', () => {
    // A getter and its setter are one property: a doc on either serves both.
    // Overloads are not: each must have its own.
    const isAccessor = (n: ts.Node) => ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n);
    const documentedAccessors = new Set(declarations.filter((d) => isAccessor(d.node) && examples(d.node).length).map((d) => d.name));
    const lacking = declarations
      .filter((d) => d.required && !examples(d.node).length && !(isAccessor(d.node) && documentedAccessors.has(d.name)))
      .map((d) => `${d.name}${declarations.filter((o) => o.name === d.name).length > 1 && !isAccessor(d.node) ? ` (overload at ${where(d.node)})` : ''}`);
    expect(lacking, `declarations without a TSDoc @example${stale()}:\n  ${lacking.join('\n  ')}\n`).toEqual([]);
  });

  it('every @example holds a ```ts block that imports from iptc-node', () => {
    const bad: string[] = [];
    for (const d of declarations) {
      for (const tag of examples(d.node)) {
        const blocks = codeBlocks(tag);
        if (!blocks.length) bad.push(`${d.name}: an @example without a \`\`\`ts block`);
        for (const b of blocks) if (!/from 'iptc-node'/.test(b)) bad.push(`${d.name}: an example that does not import from 'iptc-node'`);
      }
    }
    expect(bad, bad.join('\n') + stale()).toEqual([]);
  });

  it('every type a public signature names is exported, options are named types (not written inline), and no exported type is declared twice', () => {
    const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker!.getAliasedSymbol(s) : s);
    const exported = new Set<ts.Symbol>();
    for (const d of declarations) {
      const s = (d.node as ts.NamedDeclaration).name && checker!.getSymbolAtLocation((d.node as ts.NamedDeclaration).name!);
      if (!s) continue;
      exported.add(resolve(s));
      // (type Rule = RuleShape: the alias exports what it names.)
      if (ts.isTypeAliasDeclaration(d.node) && ts.isTypeReferenceNode(d.node.type)) {
        const target = checker!.getSymbolAtLocation(d.node.type.typeName);
        if (target) exported.add(resolve(target));
      }
    }
    const bad = new Set<string>();
    const visit = (node: ts.Node, where: string, top: boolean): void => {
      if (ts.isTypeReferenceNode(node)) {
        const s0 = checker!.getSymbolAtLocation(node.typeName);
        const s = s0 && resolve(s0);
        const decl = s?.declarations?.[0];
        if (s && decl && decl.getSourceFile().fileName.startsWith(join(root, 'dist')) && !(s.flags & ts.SymbolFlags.TypeParameter) && !exported.has(s)) {
          bad.add(`${where}: ${s.name} is not exported from the package`);
        }
      }
      if (top && ts.isTypeLiteralNode(node)) bad.add(`${where}: options written inline (${node.getText().replace(/\s+/g, ' ').slice(0, 60)}), not a named type`);
      ts.forEachChild(node, (c) => visit(c, where, false));
    };
    for (const d of declarations) {
      const n = d.node;
      if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isGetAccessorDeclaration(n)) {
        for (const p of n.parameters) if (p.type) visit(p.type, `${d.name}(${p.name.getText()})`, true);
        if (n.type) visit(n.type, `${d.name}'s result`, false);
      } else if (ts.isClassDeclaration(n)) {
        for (const m of n.members) {
          if (!ts.isConstructorDeclaration(m) && !ts.isPropertyDeclaration(m)) continue;
          if (hasModifier(m, ts.SyntaxKind.PrivateKeyword) || (m.name && ts.isPrivateIdentifier(m.name))) continue;
          if (ts.isConstructorDeclaration(m)) {
            for (const p of m.parameters) if (p.type) visit(p.type, `new ${d.name}(${p.name.getText()})`, true);
          } else if (m.type) visit(m.type, `${d.name}#${m.name.getText()}`, false);
        }
      } else if (ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n) || ts.isVariableDeclaration(n)) {
        ts.forEachChild(n, (c) => visit(c, d.name, false));
      }
    }
    // One declaration per exported type name across dist/ (an alias of another is the same one).
    const byName = new Map<string, Set<ts.Symbol>>();
    for (const s of exported) if (s.flags & (ts.SymbolFlags.Type)) byName.set(s.name, (byName.get(s.name) ?? new Set()).add(s));
    for (const f of readdirSync(join(root, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'))) {
      const text = ts.sys.readFile(join(root, 'dist', f)) ?? '';
      for (const m of text.matchAll(/^export (?:declare )?(?:type|interface) ([A-Za-z0-9_]+)(?:<[^=]*>)? *(=\s*([A-Za-z0-9_]+);)?/gm)) {
        if (m[3]) continue; // an alias of another type
        const first = byName.get(`@${m[1]}`);
        if (first) bad.add(`${m[1]} is declared twice: in ${[...first][0]!.name} and dist/${f}`);
        else byName.set(`@${m[1]}`, new Set([{ name: `dist/${f}` } as ts.Symbol]));
      }
    }
    expect([...bad], [...bad].join('\n') + stale()).toEqual([]);
  });

  describe('the examples type-check in a strict consumer project', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iptc-tsdoc-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('tsc --strict (TypeScript 5 and 7) accepts every example', () => {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(root, join(dir, 'node_modules', 'iptc-node'), 'dir');
      writeFileSync(join(dir, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
      const files = new Map<string, string>();
      for (const d of declarations) {
        examples(d.node).flatMap(codeBlocks).forEach((code) => {
          // (Numbered in one sequence: overloads share a name, Table.x and Table#x nearly do.)
          const file = `${d.name.replace(/[^A-Za-z0-9]+/g, '_')}_${files.size + 1}.ts`;
          files.set(file, d.name);
          writeFileSync(join(dir, file), code);
        });
      }
      expect(files.size).toBeGreaterThan(0);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true,
          // Examples may print (process.stdout) and dispose (`using`); our declarations are checked in exports.test.ts.
          skipLibCheck: true, lib: ['es2022', 'esnext.disposable'],
          types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
        },
        files: [...files.keys()],
      }));
      for (const tsc of compilers) {
        const r = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
        // Name the declaration whose example is wrong on each message.
        const out = (r.stdout + r.stderr).replace(/^(\S+?\.ts)\((\d+),(\d+)\)/gm, (_, f: string, l: string, c: string) => `@example of ${files.get(f) ?? f} (line ${l}, col ${c})`);
        expect(r.status, `${tsc}: examples that do not type-check${stale()}:\n${out}`).toBe(0);
      }
    });
  });
});
