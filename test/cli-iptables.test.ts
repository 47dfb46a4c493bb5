/**
 * `iptc` as a drop-in for the iptables tools in scripts: the tutorial typed
 * with `iptc` in place of `iptables` (each command one commit), -C's exit
 * status, iptables-restore's flags (-t/--test, -T, a file argument, -w) and
 * the exit statuses iptables gives (1 other, 2 parameter, 4 lock), each
 * checked against the real tool in the same or a twin namespace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nftTool, scratchPerTest, tool } from './helpers.js';
import { tutorial } from './tutorial-commands.js';

const iptc = (args: string[], input?: string, env?: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, ['dist/cli/main.js', ...args], { input, encoding: 'utf8', env: env ?? process.env });

const ns = scratchPerTest();

describe('iptc in iptables syntax', () => {
  for (const backend of ['legacy', 'nft'] as const) {
    for (const family of ['ipv4', 'ipv6'] as const) {
      it(`the tutorial typed with iptc gives the tables ${backend === 'legacy' ? 'iptables-legacy' : 'iptables-nft'} gives, ${family}`, () => {
        const ref = ns();
        const ours = ns();
        const toolOf = backend === 'legacy' ? tool : nftTool;
        const six = family === 'ipv6' ? ['-6'] : [];
        for (const cmd of tutorial(family)) {
          const theirs = ref.try(`${toolOf(family, '')} -w ${cmd}`);
          const r = iptc([...six, '--backend', backend, '--netns', ours.ns.path, ...cmd.split(' ')]);
          // (iptables-nft gives 4 for any change the kernel refuses, -j QUEUE here; iptc gives 1 on both backends, as iptables-legacy.)
          if (backend === 'legacy') expect(r.status, `${cmd}: ${r.stderr}`).toBe(theirs.status);
          else expect(r.status === 0, `${cmd}: ${r.stderr}`).toBe(theirs.status === 0);
        }
        for (const table of ['filter', 'nat', 'mangle']) {
          const save = (s: typeof ref) => s.sh(`${toolOf(family, '-save')} -c -t ${table}`).replace(/^#.*\n/gm, '');
          expect(save(ours), `${backend} ${family} ${table}`).toBe(save(ref));
        }
      });
    }
  }

  it('-C exits 0 when the rule is there and 1 when not; statuses 1 and 2 where iptables gives them', () => {
    const s = ns();
    s.ipt('-A INPUT -p tcp --dport 22 -j ACCEPT');
    const both = (args: string) => {
      const r = iptc(['--backend', 'legacy', '--netns', s.ns.path, ...args.split(' ')]);
      const theirs = s.try(`iptables-legacy ${args}`);
      expect(r.status, `${args}: ${r.stderr}`).toBe(theirs.status);
      if (r.status !== 0) expect(r.stderr).toMatch(/^iptc: .+\n$/);
      return r.status;
    };
    expect(both('-C INPUT -p tcp --dport 22 -j ACCEPT')).toBe(0);
    expect(both('-C INPUT -p tcp --dport 23 -j ACCEPT')).toBe(1);
    expect(both('-A INPUT -p tcp --dport 99999 -j ACCEPT')).toBe(2);
    expect(both('-A INPUT --no-such-option -j ACCEPT')).toBe(2);
    expect(both('-A NOSUCH -j ACCEPT')).toBe(1);
    expect(both('-D INPUT -p tcp --dport 80 -j ACCEPT')).toBe(1);
    expect(both('-X NOSUCH')).toBe(1);
    expect(both('-L NOSUCH')).toBe(1);
    expect(s.save()).toBe('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n');
    for (const args of ['-L -n -v -x --line-numbers', '-t nat -L -n', '-S', '-S INPUT -v']) {
      const r = iptc(['--backend', 'legacy', '--netns', s.ns.path, ...args.split(' ')]);
      expect(r.stdout, args).toBe(s.ipt(args));
    }
  });
});

describe('iptc restore with iptables-restore flags', () => {
  const text = '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';

  it('-t/--test checks and commits nothing (with -n too); bad input is status 2 naming the line, as iptables-restore', () => {
    const s = ns();
    const before = s.save();
    for (const flags of [['-t'], ['--test'], ['-t', '-n'], ['-n', '--test', '-c']]) {
      const r = iptc(['restore', ...flags, '--backend', 'legacy', '--netns', s.ns.path], text);
      expect(r.status, `${flags.join(' ')}: ${r.stderr}`).toBe(0);
      expect(s.save()).toBe(before);
    }
    const bad = '*filter\n-A INPUT -j ACCEPT\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n';
    expect(s.try('iptables-legacy-restore --test', bad).status).toBe(2);
    const r = iptc(['restore', '-t', '--backend', 'legacy', '--netns', s.ns.path], bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^iptc: line 3: .*99999/);
    expect(s.save()).toBe(before);
  });

  it('-T, a file argument and -w [secs] mean what they mean to iptables-restore; a flag is never taken as a value', () => {
    const ref = ns();
    const ours = ns();
    const file = join(mkdtempSync(join(tmpdir(), 'iptc-in-')), 'rules');
    writeFileSync(file, `${text}*nat\n-A OUTPUT -j ACCEPT\nCOMMIT\n`);
    for (const flags of [['-T', 'nat'], ['-w', '-n'], ['-w', '5', '-W', '1000'], ['--table=filter', '-n'], ['-n', '-c', '--wait', '2']]) {
      ref.sh(`iptables-legacy-restore ${flags.join(' ')} ${file}`);
      const r = iptc(['restore', ...flags, '--backend', 'legacy', '--netns', ours.ns.path, file]);
      expect(r.status, `${flags.join(' ')}: ${r.stderr}`).toBe(0);
      for (const table of ['filter', 'nat']) expect(ours.save('ipv4', table, true)).toBe(ref.save('ipv4', table, true));
    }
    for (const flags of [['-T', '-n'], ['--table'], ['-w', 'soon']]) {
      const r = iptc(['restore', ...flags, '--backend', 'legacy', '--netns', ours.ns.path], text);
      expect(r.status, flags.join(' ')).toBe(2);
    }
    const missing = iptc(['restore', '--backend', 'legacy', '--netns', ours.ns.path, '/nonexistent/rules']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^iptc: can't open \/nonexistent\/rules/);
  });

  it('a lock held longer than -w waits exits with status 4 (iptables RESOURCE_PROBLEM), changing nothing', async () => {
    const s = ns();
    const lock = join(mkdtempSync(join(tmpdir(), 'iptc-lock-')), 'xtables.lock');
    const holder = spawn('flock', [lock, 'sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const env = { ...process.env, XTABLES_LOCKFILE: lock };
      const t0 = Date.now();
      const r = iptc(['restore', '-w', '1', '--backend', 'legacy', '--netns', s.ns.path], text, env);
      expect(r.status, r.stderr).toBe(4);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.stderr).toMatch(/^iptc: .*xtables lock/);
      const one = iptc(['-w', '1', '--backend', 'legacy', '--netns', s.ns.path, '-A', 'INPUT', '-j', 'ACCEPT'], undefined, env);
      expect(one.status, one.stderr).toBe(4);
      expect(s.save()).toBe('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n');
    } finally {
      holder.kill();
    }
  });
});

describe('--json', () => {
  it('list, save, diff and top print JSON a program can read, with what iptables-legacy shows', () => {
    const s = ns();
    s.restore('*filter\n:INPUT DROP [0:0]\n:svc - [0:0]\n[5:300] -A INPUT -p tcp --dport 22 -j ACCEPT\n[0:0] -A INPUT -j svc\n[9007199254740993:1] -A svc -j RETURN\nCOMMIT\n', 'ipv4', '-c');
    const where = ['--backend', 'legacy', '--netns', s.ns.path];
    const list = iptc(['list', '--json', ...where]);
    expect(list.status, list.stderr).toBe(0);
    const t = JSON.parse(list.stdout) as { table: string; chains: { name: string; policy?: string; rules: { spec: string; counters: { packets: string; bytes: string } }[] }[] };
    expect(t.table).toBe('filter');
    // The chains and rules as iptables -S -v lists them; counters as exact decimal strings (past 2^53 too).
    const specs = s.ipt('-S').split('\n').filter((l) => l.startsWith('-A '));
    expect(t.chains.flatMap((c) => c.rules.map((r) => r.spec))).toEqual(specs);
    expect(t.chains.map((c) => c.name)).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'svc']);
    expect(t.chains[0]!.policy).toBe('DROP');
    expect(t.chains[3]!.rules[0]!.counters).toEqual({ packets: '9007199254740993', bytes: '1' });
    const save = JSON.parse(iptc(['save', '--json', ...where]).stdout) as { tables: { table: string }[] };
    expect(save.tables.map((x) => x.table)).toEqual(s.sh('iptables-legacy-save').split('\n').filter((l) => l.startsWith('*')).map((l) => l.slice(1)));
    const file = join(mkdtempSync(join(tmpdir(), 'iptc-json-')), 'rules');
    writeFileSync(file, '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n');
    const d = iptc(['diff', '--json', ...where, file]);
    expect(d.status).toBe(1);
    const diffs = JSON.parse(d.stdout) as { table: string; equal: boolean; chainsRemoved: string[] }[];
    expect(diffs).toMatchObject([{ table: 'filter', equal: false, chainsRemoved: ['svc'] }]);
    const top = iptc(['top', '--json', '--interval', '20', '--count', '2', ...where]);
    expect(top.status, top.stderr).toBe(0);
    const lines = top.stdout.trim().split('\n').map((l) => JSON.parse(l) as { table: string; rules: { rule: string; text: string }[] });
    expect(lines).toHaveLength(2);
    expect(lines[0]!.rules.map((r) => r.rule)).toContain('INPUT:1');
    expect(lines[0]!.rules.find((r) => r.rule === 'INPUT:1')!.text).toBe('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT');
  });
});

describe('iptc itself', () => {
  it('--version, and an addon that cannot load is one line and status 1, never a stack', () => {
    const v = iptc(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^iptc \d+\.\d+\.\d+ \(iptc-node\)\n$/);
    // A copy of the package without its addon (and without node_modules to find one).
    const dir = mkdtempSync(join(tmpdir(), 'iptc-noaddon-'));
    cpSync('dist', join(dir, 'dist'), { recursive: true });
    cpSync('package.json', join(dir, 'package.json'));
    for (const args of [['save'], ['-L']]) {
      const r = spawnSync(process.execPath, [join(dir, 'dist/cli/main.js'), ...args], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^iptc: iptc-node could not load its native addon: .+\n$/);
    }
  });
});
