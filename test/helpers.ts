/**
 * Scratch namespaces for tests and the oracle: the real iptables-legacy
 * tools, run inside the same namespace with nsenter. The library itself
 * never spawns; tests may.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { afterEach } from 'vitest';
import { Netns } from '../src/index.js';
import type { FamilyName } from '../src/native.js';

export interface Scratch {
  ns: Netns;
  /** Runs a command (through sh) inside the namespace; throws with stderr on failure. */
  sh(cmd: string, input?: string): string;
  /** Like sh, but returns exit status and output instead of throwing. */
  try(cmd: string, input?: string): { status: number; stdout: string; stderr: string };
  /** iptables-legacy-save (-c) of one table, without its # comment lines. */
  save(family?: FamilyName, table?: string, counters?: boolean): string;
  /** iptables-legacy-restore of some text. */
  restore(text: string, family?: FamilyName, flags?: string): void;
  /** iptables-legacy (or ip6tables-legacy) with arguments, e.g. '-A INPUT -j ACCEPT'. */
  ipt(args: string, family?: FamilyName): string;
  close(): void;
}

export const tool = (family: FamilyName, what: '' | '-save' | '-restore') =>
  `${family === 'ipv4' ? 'iptables' : 'ip6tables'}-legacy${what}`;

/** The iptables-nft tools of a family. */
export const nftTool = (family: FamilyName, what: '' | '-save' | '-restore') =>
  `${family === 'ipv4' ? 'iptables' : 'ip6tables'}-nft${what}`;

/** Restore text with distinct counters in front of each -A line ([1:100], [2:200], ...). */
export function withCounters(text: string): string {
  let k = 1;
  return text
    .split('\n')
    .map((l) => (l.startsWith('-A ') ? `[${k}:${100 * k++}] ${l}` : l))
    .join('\n');
}

/** Runs a program to its end without blocking the event loop; rejects with its stderr unless it exits 0. */
export function runToEnd(cmd: string, args: string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

export function stripComments(save: string): string {
  return save
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

export function scratch(): Scratch {
  const ns = Netns.create();
  const run = (cmd: string, input?: string) =>
    spawnSync('nsenter', [`--net=${ns.path}`, 'sh', '-c', cmd], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  const s: Scratch = {
    ns,
    try(cmd, input) {
      const r = run(cmd, input);
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    sh(cmd, input) {
      const r = run(cmd, input);
      if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
      return r.stdout;
    },
    save(family = 'ipv4', table = 'filter', counters = false) {
      return stripComments(s.sh(`${tool(family, '-save')} -t ${table}${counters ? ' -c' : ''}`));
    },
    restore(text, family = 'ipv4', flags = '') {
      s.sh(`${tool(family, '-restore')} -w ${flags}`, text);
    },
    ipt(args, family = 'ipv4') {
      return s.sh(`${tool(family, '')} -w ${args}`);
    },
    close() {
      ns.close();
    },
  };
  return s;
}

/** Brings `lo` up in a namespace so that packets can flow. */
export function loUp(s: Scratch): void {
  s.sh('ip link set lo up');
}

export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Scratch namespaces closed after each test: call once per file, then call what it returns in tests. */
export function scratchPerTest(): () => Scratch {
  const open: Scratch[] = [];
  afterEach(() => {
    while (open.length) open.pop()!.close();
  });
  return () => {
    const s = scratch();
    open.push(s);
    return s;
  };
}
