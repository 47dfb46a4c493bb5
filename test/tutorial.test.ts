/**
 * Every command of the iptables tutorial this project grew from
 * (shared/seed-iptables-thread.txt), run two ways: through iptables-legacy in
 * one scratch namespace, through iptc-node in another. After each step the
 * two tables must save identically (counters included).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyCommand, Table, type FamilyName } from '../src/index.js';
import { scratch, tool, type Scratch } from './helpers.js';
import { tutorial } from './tutorial-commands.js';
import type { TableName } from '../src/names.js';

const open: Scratch[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});

function pair(): { ref: Scratch; ours: Scratch } {
  const ref = scratch();
  const ours = scratch();
  open.push(ref, ours);
  return { ref, ours };
}

/** `-t nat -A ...` → table and the rest, as iptables reads its words. */
function splitTable(cmd: string): { table: TableName; rest: string } {
  const m = /^-t (\S+) (.*)$/.exec(cmd);
  return m ? { table: m[1]! as TableName, rest: m[2]! } : { table: 'filter', rest: cmd };
}

/** One iptables command through iptc-node: open, apply, commit (what iptables itself does). */
function viaLibrary(ns: Scratch, family: FamilyName, cmd: string): boolean | undefined {
  const { table, rest } = splitTable(cmd);
  const t = Table.openSync(table, { family, netns: ns.ns });
  const result = applyCommand(t, rest);
  if (t.dirty) t.commitSync();
  return result;
}

function expectSame(ref: Scratch, ours: Scratch, family: FamilyName, tables: string[]): void {
  for (const table of tables) expect(ours.save(family, table, true)).toBe(ref.save(family, table, true));
}

for (const family of ['ipv4', 'ipv6'] as const) {
  describe(`the tutorial's commands, ${family}`, () => {
    it('one command per commit gives what iptables-legacy gives, step by step', () => {
      const { ref, ours } = pair();
      for (const cmd of tutorial(family)) {
        ref.ipt(cmd, family);
        viaLibrary(ours, family, cmd);
        expectSame(ref, ours, family, [splitTable(cmd).table]);
      }
      expectSame(ref, ours, family, ['filter', 'nat', 'mangle']);
    });

    it('all commands in one snapshot and one commit give the same tables', () => {
      const { ref, ours } = pair();
      const snapshots = new Map<string, Table>();
      for (const cmd of tutorial(family)) {
        ref.ipt(cmd, family);
        const { table, rest } = splitTable(cmd);
        if (!snapshots.has(table)) snapshots.set(table, Table.openSync(table, { family, netns: ours.ns }));
        applyCommand(snapshots.get(table)!, rest);
      }
      for (const t of snapshots.values()) t.commitSync();
      expectSame(ref, ours, family, ['filter', 'nat', 'mangle']);
    });

    it('-C answers as iptables -C does', () => {
      const { ref, ours } = pair();
      const setup = ['-A INPUT -i lo -j ACCEPT', '-A INPUT -p tcp --dport 22 -j ACCEPT', '-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT'];
      for (const cmd of setup) {
        ref.ipt(cmd, family);
        viaLibrary(ours, family, cmd);
      }
      for (const spec of [
        '-i lo -j ACCEPT',
        '-p tcp --dport 22 -j ACCEPT',
        '-p tcp --dport 23 -j ACCEPT',
        '-p tcp -m tcp --dport 22 -j ACCEPT',
        '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-i lo -j DROP',
      ]) {
        // ip6tables-legacy 1.8.9's -C wrongly answers yes for rules that differ
        // only in the tcp match's ports (its -D on the same rule says no such
        // rule). For IPv6 the oracle is therefore -D on a copy of the table.
        let exists = ref.try(`${tool(family, '')} -w -C INPUT ${spec}`).status === 0;
        if (family === 'ipv6') {
          const copy = scratch();
          open.push(copy);
          copy.restore(ref.save(family), family);
          exists = copy.try(`${tool(family, '')} -w -D INPUT ${spec}`).status === 0;
        }
        expect(viaLibrary(ours, family, `-C INPUT ${spec}`), spec).toBe(exists);
      }
    });

    it('listing (-nvL, -t nat -L, -t mangle -L FORWARD) reads the same chains, rules and counters', () => {
      const { ref } = pair();
      ref.sh('ip link set lo up');
      ref.ipt('-A INPUT -i lo -j ACCEPT', family);
      ref.ipt('-A OUTPUT -o lo -j ACCEPT', family);
      ref.ipt('-t nat -A OUTPUT -o lo -j RETURN', family);
      ref.ipt('-t mangle -A FORWARD -j MARK --set-mark 2', family);
      ref.sh(family === 'ipv4' ? 'ping -c 4 -i 0.01 -W 1 127.0.0.1' : 'ping -6 -c 4 -i 0.01 -W 1 ::1');
      for (const [table, chain] of [['filter', undefined], ['nat', undefined], ['mangle', 'FORWARD']] as const) {
        const t = Table.openSync(table, { family, netns: ref.ns });
        const listing = ref.ipt(`-t ${table} -nvxL${chain ? ` ${chain}` : ''}`, family);
        // Chain headers: "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)" / "Chain X (N references)"
        const heads = listing.split('\n').filter((l) => l.startsWith('Chain '));
        const chains = chain ? [t.chain(chain)!] : t.chains();
        expect(heads).toEqual(
          chains.map((c) =>
            c.builtin
              ? `Chain ${c.name} (policy ${c.policy} ${c.counters!.packets} packets, ${c.counters!.bytes} bytes)`
              : `Chain ${c.name} (${c.references} references)`,
          ),
        );
        // Rule lines start with the packet and byte counters.
        const rows = listing.split('\n').filter((l) => /^\s+\d+\s+\d+\s/.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '));
        expect(rows).toEqual(chains.flatMap((c) => t.rules(c.name).map((r) => `${r.counters.packets} ${r.counters.bytes}`)));
      }
      const input = Table.openSync('filter', { family, netns: ref.ns }).rules('INPUT')[0]!;
      expect(input.counters.packets).toBeGreaterThanOrEqual(8n);
    });

    it('commands iptables refuses are refused too, and change nothing', () => {
      const { ref, ours } = pair();
      for (const cmd of ['-N used', '-A INPUT -j used', '-A used -j ACCEPT']) {
        ref.ipt(cmd, family);
        viaLibrary(ours, family, cmd);
      }
      for (const bad of [
        '-X used', // not empty, and referenced
        '-X INPUT', // built-in
        '-N used', // exists
        '-D INPUT 5', // no such rule
        '-I INPUT 9 -j ACCEPT', // past the end
        '-P used ACCEPT', // user chains have no policy
        '-P INPUT RETURN', // not a policy
        '-A nope -j ACCEPT', // no such chain
        '-A INPUT -j nope', // no such target or chain
        '-D INPUT -p tcp --dport 1 -j ACCEPT', // no such rule
        '-E used INPUT', // exists
        '-A INPUT -o eth0 -j ACCEPT', // -o on INPUT
        '-A OUTPUT -i eth0 -j ACCEPT', // -i on OUTPUT
        '-t nat -A PREROUTING -j DROP', // no DROP in nat
      ]) {
        expect(ref.try(`${tool(family, '')} -w ${bad}`).status, bad).not.toBe(0);
        const before = ours.save(family, splitTable(bad).table, true);
        expect(() => viaLibrary(ours, family, bad), bad).toThrow();
        expect(ours.save(family, splitTable(bad).table, true)).toBe(before);
      }
      expectSame(ref, ours, family, ['filter', 'nat']);
    });
  });
}
