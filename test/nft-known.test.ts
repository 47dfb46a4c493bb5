/**
 * The nf_tables backend keeps the table a Table.update last read or wrote
 * current from what the kernel announces of every batch (NFNLGRP_NFTABLES),
 * so that a change after another program's needs no dump
 * (src-native/nft/known.h, watch.h, known_apply.h). Another program
 * (iptables-nft, ip6tables-nft, nft, iptables-nft-restore --noflush) changes
 * the table between two of our updates; the second update works on
 * positions, so a table known wrongly would show; and:
 *  - what the update's callback saw equals iptables-nft-save -c of the table
 *    at that moment (rule lines and their counters),
 *  - the table after it equals, through iptables-nft-save -c and
 *    `nft --debug=netlink list table`, a twin namespace that got the same
 *    commands from iptables-nft alone,
 *  - nftKnownStats says whether the table was brought forward (no dump) or
 *    read again (a dump): changes that can be followed must not dump, the
 *    rest must dump.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Table, type FamilyName } from '../src/index.js';
import { native } from '../src/native.js';
import { nftTool, scratch, scratchPerTest, stripComments, type Scratch } from './helpers.js';

const ns = scratchPerTest();
const nftFamily = (family: FamilyName) => (family === 'ipv4' ? 'ip' : 'ip6');
const save = (s: Scratch, family: FamilyName) => stripComments(s.sh(`${nftTool(family, '-save')} -c -t filter`));
const ruleLines = (text: string) => text.split('\n').filter((l) => /^(\[\d+:\d+\] )?-A /.test(l)).join('\n');

function bytecode(s: Scratch, family: FamilyName): string {
  const r = s.try(`nft --debug=netlink list table ${nftFamily(family)} filter`);
  if (r.status !== 0) return `(no table: ${r.stderr.trim()})`;
  return r.stdout.replace(/^(ip6? \S+ \S+) \d+ \d+$/gm, '$1').replace(/^(ip6? \S+ \S+) \d+$/gm, '$1');
}

/** One step another program takes: a command line run in the namespace, with the iptables-nft lines that do the same in the oracle. */
interface Other {
  run: (s: Scratch) => void;
  oracle: string[] | ((o: Scratch) => void);
}
const ipt = (family: FamilyName, args: string): Other => ({
  run: (s) => s.sh(`${nftTool(family, '')} ${args}`),
  oracle: [args],
});

interface Case {
  name: string;
  family?: FamilyName;
  setup: string[]; // our first update's lines (iptables words, appended to INPUT unless they name a chain with -N)
  other: Other[];
  ours: (t: Table) => void; // our second update
  oursOracle: string[];
  fast: boolean; // brought forward without a dump
}

const many = `*filter\n${Array.from({ length: 300 }, (_, k) => `-A INPUT -s 10.2.${k >> 8}.${k & 255} -j ACCEPT`).join('\n')}\nCOMMIT\n`;
const four = ['-s 10.0.0.1 -j ACCEPT', '-s 10.0.0.2 -j ACCEPT', '-s 10.0.0.3 -j DROP', '-s 10.0.0.4 -j RETURN'];
const insert2 = { ours: (t: Table) => t.insert('INPUT', '-s 10.1.1.1 -j ACCEPT', 2), oursOracle: ['-I INPUT 2 -s 10.1.1.1 -j ACCEPT'] };
const delete3 = { ours: (t: Table) => t.delete('INPUT', 3), oursOracle: ['-D INPUT 3'] };

const cases: Case[] = [
  { name: 'iptables-nft -A', setup: four, other: [ipt('ipv4', '-A INPUT -s 10.0.0.9 -j DROP')], ...insert2, fast: true },
  { name: 'iptables-nft -A -c (counters given)', setup: four, other: [ipt('ipv4', '-A INPUT -c 7 700 -s 10.0.0.9 -j DROP')], ...delete3, fast: true },
  { name: 'iptables-nft -I 1', setup: four, other: [ipt('ipv4', '-I INPUT 1 -s 10.0.0.9 -j DROP')], ...delete3, fast: true },
  { name: 'iptables-nft -I 3', setup: four, other: [ipt('ipv4', '-I INPUT 3 -p tcp --dport 22 -j ACCEPT')], ...insert2, fast: true },
  { name: 'iptables-nft -D by number and by spec', setup: four, other: [ipt('ipv4', '-D INPUT 2'), ipt('ipv4', '-D INPUT -s 10.0.0.4 -j RETURN')], ...insert2, fast: true },
  { name: 'iptables-nft -F INPUT', setup: four, other: [ipt('ipv4', '-F INPUT')], ours: (t) => t.append('INPUT', '-j DROP').insert('INPUT', '-j ACCEPT', 1), oursOracle: ['-A INPUT -j DROP', '-I INPUT 1 -j ACCEPT'], fast: true },
  { name: 'iptables-nft -R of a middle rule', setup: four, other: [ipt('ipv4', '-R INPUT 2 -s 10.0.0.8 -j DROP')], ...delete3, fast: true },
  // A replaced first or last rule is announced without a position after a
  // deletion in its chain: first or last cannot be told, the table is read.
  { name: 'iptables-nft -R of the first rule', setup: four, other: [ipt('ipv4', '-R INPUT 1 -s 10.0.0.8 -j DROP')], ...delete3, fast: false },
  { name: 'iptables-nft -R of the last rule', setup: four, other: [ipt('ipv4', '-R INPUT 4 -s 10.0.0.8 -j DROP')], ...insert2, fast: false },
  {
    name: 'iptables-nft -A with a jump to a user chain, and a rule in it',
    setup: [...four, '-N svc'], // (base chains are made first, as iptables-nft made INPUT before -N)
    other: [ipt('ipv4', '-A INPUT -p tcp -j svc'), ipt('ipv4', '-A svc -p tcp --dport 80 -j ACCEPT')],
    ours: (t) => t.insert('INPUT', '-p udp -j svc', 2).delete('INPUT', 5),
    oursOracle: ['-I INPUT 2 -p udp -j svc', '-D INPUT 5'],
    fast: true,
  },
  {
    name: 'iptables-nft -A of a goto and of rules with no target, -I before them',
    setup: ['-s 10.0.0.5', ...four, '-N svc'],
    other: [ipt('ipv4', '-A INPUT -p udp -g svc'), ipt('ipv4', '-A svc -s 10.0.0.6'), ipt('ipv4', '-I INPUT 2 -s 10.0.0.9 -j DROP'), ipt('ipv4', '-I svc 1 -s 10.0.0.7 -j RETURN')],
    ours: (t) => t.insert('INPUT', '-p tcp -g svc', 3).delete('INPUT', 1),
    oursOracle: ['-I INPUT 3 -p tcp -g svc', '-D INPUT 1'],
    fast: true,
  },
  {
    name: 'nft add rule (a native rule iptables can show) and nft insert',
    setup: four,
    other: [
      { run: (s) => s.sh('nft add rule ip filter INPUT ip saddr 10.0.0.7 counter accept'), oracle: ['-A INPUT -s 10.0.0.7 -j ACCEPT'] },
      { run: (s) => s.sh('nft insert rule ip filter INPUT ip saddr 10.0.0.6 counter drop'), oracle: ['-I INPUT 1 -s 10.0.0.6 -j DROP'] },
    ],
    ...delete3,
    fast: true,
  },
  {
    name: 'iptables-nft-restore --noflush, several lines in one batch',
    setup: four,
    other: [{
      run: (s) => s.sh('iptables-nft-restore --noflush', '*filter\n-A INPUT -s 10.0.0.10 -j DROP\n-I INPUT 2 -s 10.0.0.11 -j ACCEPT\n-A INPUT -s 10.0.0.12 -j ACCEPT\n-D INPUT -s 10.0.0.3 -j DROP\nCOMMIT\n'),
      oracle: ['-A INPUT -s 10.0.0.10 -j DROP', '-I INPUT 2 -s 10.0.0.11 -j ACCEPT', '-A INPUT -s 10.0.0.12 -j ACCEPT', '-D INPUT -s 10.0.0.3 -j DROP'],
    }],
    ...insert2,
    fast: true,
  },
  { name: 'another table made and deleted (nft), nothing of ours', setup: four, other: [{ run: (s) => { s.sh('nft add table inet touch'); s.sh('nft delete table inet touch'); }, oracle: [] }], ...insert2, fast: true },
  { name: 'the other family\'s filter table (ip6tables-nft -A)', setup: four, other: [{ run: (s) => s.sh(`${nftTool('ipv6', '')} -A INPUT -j DROP`), oracle: [] }], ...insert2, fast: true },
  { name: 'ip6tables-nft -I 2 on an ip6 table', family: 'ipv6', setup: ['-s ::1 -j ACCEPT', '-s ::2 -j DROP', '-s ::3 -j ACCEPT'], other: [ipt('ipv6', '-I INPUT 2 -s ::9 -j DROP')], ours: (t) => t.delete('INPUT', 3), oursOracle: ['-D INPUT 3'], fast: true },
  // Chains changed by another program: the table is read again.
  {
    name: 'iptables-nft-restore --noflush of 300 rules (more than is followed)',
    setup: four,
    other: [{
      run: (s) => s.sh('iptables-nft-restore --noflush', many),
      oracle: (o) => o.sh('iptables-nft-restore --noflush', many),
    }],
    ...insert2,
    fast: false,
  },
  { name: 'iptables-nft -N', setup: four, other: [ipt('ipv4', '-N other')], ...insert2, fast: false },
  { name: 'iptables-nft -X', setup: ['-N gone', ...four], other: [ipt('ipv4', '-X gone')], ...insert2, fast: false },
  { name: 'iptables-nft -P', setup: four, other: [ipt('ipv4', '-P INPUT DROP')], ...delete3, fast: false },
];

const stats = () => native.nftKnownStats();

/** The table as known (brought forward, no dump) is, byte for byte and index for index, the table as a dump lays it out. */
function sameAsDump(s: Scratch, family: FamilyName): void {
  const known = native.nftReadTable(family, 'filter', s.ns.fd, false, true);
  const dumped = native.nftReadTable(family, 'filter', s.ns.fd, false, false);
  if ('absent' in known || 'absent' in dumped) throw new Error('no table');
  expect(known.genid).toBe(dumped.genid);
  expect(known.blob.equals(dumped.blob)).toBe(true);
  const facts = (t: typeof known) => ({ n: t.numEntries, chains: t.chains, offsets: [...t.offsets], entryIndex: [...t.entryIndex], jumps: [...t.jumps], handles: [...t.handles], present: t.present });
  expect(facts(known)).toEqual(facts(dumped));
}

describe('a table kept current from nf_tables announcements', () => {
  for (const c of cases) {
    it(`after ${c.name}: ${c.fast ? 'no dump' : 'read again'}, and the table iptables-nft would leave`, async () => {
      const family = c.family ?? 'ipv4';
      const s = ns();
      const o = ns();
      const opts = { netns: s.ns, backend: 'nft' as const, family };
      // (A table made by an update is known from the next one on.)
      for (const x of [s, o]) x.sh(`nft add table ${nftFamily(family)} filter`);
      const first = c.setup.map((l) => (l.startsWith('-N ') ? l : `-A INPUT ${l}`));
      await Table.update('filter', opts, (t) => {
        for (const l of c.setup) {
          if (l.startsWith('-N ')) t.createChain(l.slice(3));
          else t.append('INPUT', l);
        }
      });
      for (const x of c.other) x.run(s);
      const before = ruleLines(save(s, family));
      const was = stats();
      if (c.fast) {
        sameAsDump(s, family);
        const now = stats();
        expect([now.caughtUp - was.caughtUp, now.fellBack - was.fellBack]).toEqual([1, 0]);
      }
      let seen = '';
      await Table.update('filter', opts, (t) => {
        seen = ruleLines(t.save({ counters: true }));
        c.ours(t);
      });
      const now = stats();
      expect(seen).toBe(before);
      if (c.fast) expect(now.fellBack - was.fellBack).toBe(0);
      else expect(now.fellBack - was.fellBack).toBeGreaterThan(0);
      const run = (lines: string[]) => lines.forEach((l) => o.sh(`${nftTool(family, '')} ${l}`));
      run(first);
      for (const x of c.other) if (typeof x.oracle === 'function') x.oracle(o); else run(x.oracle);
      run(c.oursOracle);
      expect(save(s, family)).toBe(save(o, family));
      expect(bytecode(s, family)).toBe(bytecode(o, family));
    });
  }

  it('many changes by others in a row, each followed without a dump', async () => {
    const s = ns();
    const o = ns();
    const opts = { netns: s.ns, backend: 'nft' as const };
    for (const x of [s, o]) x.sh('nft add table ip filter');
    const lines: string[] = [];
    const ours = async (l: string) => {
      lines.push(`-A INPUT ${l}`);
      await Table.update('filter', opts, (t) => t.append('INPUT', l));
    };
    await ours('-s 10.0.0.1 -j ACCEPT');
    const was = stats();
    for (let k = 2; k < 12; k++) {
      const other = k % 3 === 0 ? `-I INPUT 1 -s 10.0.1.${k} -j DROP` : k % 3 === 1 ? '-D INPUT 1' : `-A INPUT -s 10.0.2.${k} -j ACCEPT`;
      s.sh(`iptables-nft ${other}`);
      lines.push(other);
      await ours(`-s 10.0.0.${k} -j ACCEPT`);
    }
    const now = stats();
    expect([now.caughtUp - was.caughtUp, now.fellBack - was.fellBack]).toEqual([10, 0]);
    for (const l of lines) o.sh(`iptables-nft ${l}`);
    expect(save(s, 'ipv4')).toBe(save(o, 'ipv4'));
    expect(bytecode(s, 'ipv4')).toBe(bytecode(o, 'ipv4'));
  });

  it('the watch does not keep a namespace alive: closing its Netns closes the socket', async () => {
    const sockets = () =>
      readdirSync('/proc/self/fd').filter((f) => {
        try {
          return readlinkSync(`/proc/self/fd/${f}`).startsWith('socket:');
        } catch {
          return false;
        }
      }).length;
    const before = sockets();
    const s = scratch();
    try {
      s.sh('nft add table ip filter');
      const opts = { netns: s.ns, backend: 'nft' as const };
      await Table.update('filter', opts, (t) => t.append('INPUT', '-j ACCEPT'));
      s.sh('iptables-nft -A INPUT -j DROP');
      const was = stats();
      await Table.update('filter', opts, (t) => t.append('INPUT', '-j RETURN'));
      expect(stats().caughtUp - was.caughtUp).toBe(1);
      expect(sockets()).toBe(before + 1);
    } finally {
      s.close();
    }
    expect(sockets()).toBe(before);
  });
});
