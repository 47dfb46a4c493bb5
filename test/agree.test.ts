/**
 * Commands where iptc-node once disagreed with iptables (found by random
 * command sequences): each is now accepted or refused as iptables-legacy
 * accepts or refuses it, with the same table after, or differs on purpose
 * (said here and in README's list of deliberate differences).
 */
import { describe, expect, it } from 'vitest';
import { applyCommand, IptcError, Table, type FamilyName } from '../src/index.js';
import { splitWords } from '../src/words.js';
import { scratchPerTest, tool } from './helpers.js';
import type { TableName } from '../src/names.js';

const ns = scratchPerTest();

/** `command` (with -t table) through iptables-legacy and through applyCommand + commit, in twin namespaces. */
function both(setup: string, command: string, family: FamilyName = 'ipv4', table: TableName = 'filter') {
  const a = ns();
  const b = ns();
  for (const x of [a, b]) x.restore(setup, family);
  const theirs = a.try(`${tool(family, '')} -w -t ${table} ${command}`);
  let ours: unknown = null;
  try {
    const t = Table.openSync(table, { family, netns: b.ns });
    applyCommand(t, splitWords(command));
    t.commitSync();
  } catch (e) {
    ours = e;
  }
  return { theirs: theirs.status === 0, theirError: theirs.stderr, ours, save: [a.save(family, table, true), b.save(family, table, true)] };
}

const FILTER = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:web - [0:0]\n-A INPUT -j web\nCOMMIT\n';
const NAT = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n';

for (const family of ['ipv4', 'ipv6'] as const) {
  describe(`agreeing with iptables-legacy, ${family}`, () => {
    it('-P CHAIN TARGET with counters (-c P B, --set-counters P B, -c P,B)', () => {
      for (const cmd of ['-P OUTPUT DROP -c 635 73565', '-P OUTPUT DROP --set-counters 7 700', '-P FORWARD DROP -c 5,6', '-P INPUT ACCEPT -c 1', '-P INPUT DROP -c x y', '-P INPUT DROP extra']) {
        const r = both(FILTER, cmd, family);
        expect(r.ours === null, `${cmd}: iptables ${r.theirs ? 'accepts' : `refuses (${r.theirError.trim()})`}`).toBe(r.theirs);
        if (r.theirs) expect(r.save[1], cmd).toBe(r.save[0]);
        else expect(r.ours).toBeInstanceOf(IptcError);
      }
    });

    it('a jump or goto to a built-in chain is refused when given, as iptables refuses it', () => {
      for (const cmd of ['-A FORWARD -j INPUT', '-A FORWARD -g INPUT', '-A web -p tcp -j OUTPUT']) {
        const r = both(FILTER, cmd, family);
        expect(r.theirs, cmd).toBe(false);
        expect(r.ours, cmd).toBeInstanceOf(IptcError);
        const t = Table.openSync('filter', { family, netns: ns().ns });
        expect(() => applyCommand(t, splitWords(cmd.replace('web', 'INPUT')))).toThrow(/built-in chain/);
        expect(t.dirty).toBe(false);
      }
      const r = both(NAT, '-A POSTROUTING -p tcp -j PREROUTING', family, 'nat');
      expect([r.theirs, r.ours instanceof IptcError]).toEqual([false, true]);
    });

    it('-N with the name of a target that needs options (MARK, DNAT) is refused, as iptables refuses it', () => {
      for (const cmd of ['-N MARK', '-N DNAT', '-N LOG', '-N REJECT']) {
        const r = both(FILTER, cmd, family);
        expect(r.theirs, cmd).toBe(false);
        expect(r.ours, cmd).toBeInstanceOf(IptcError);
        expect((r.ours as IptcError).message).toMatch(/target/);
      }
    });

    it('-i + and -o + count as given: refused where iptables refuses -i / -o', () => {
      for (const [cmd, table, setup] of [
        ['-A POSTROUTING -i + -j ACCEPT', 'nat', NAT],
        ['-A OUTPUT -i + -j ACCEPT', 'filter', FILTER],
        ['-A INPUT -o + -j ACCEPT', 'filter', FILTER],
        ['-A PREROUTING ! -o + -j ACCEPT', 'nat', NAT],
        ['-A INPUT -i + -j ACCEPT', 'filter', FILTER],
      ] as const) {
        const r = both(setup, cmd, family, table);
        expect(r.ours === null, `${cmd}: iptables ${r.theirs ? 'accepts' : 'refuses'}`).toBe(r.theirs);
        if (r.theirs) expect(r.save[1]).toBe(r.save[0]);
      }
    });

    it('-E to a target name is taken, as iptables takes it', () => {
      const r = both(FILTER, '-E web LOG', family);
      expect([r.theirs, r.ours]).toEqual([true, null]);
      expect(r.save[1]).toBe(r.save[0]);
    });

    it('deliberate difference: -E to a name with blanks is refused (iptables 1.8.9 lets it through, and its own save output of the table does not restore)', () => {
      const r = both(FILTER, '-E web "a b"', family);
      expect(r.theirs).toBe(true);
      expect(r.ours).toBeInstanceOf(IptcError);
      const x = ns();
      expect(x.try(`${tool(family, '-restore')} -w`, r.save[0]).status).not.toBe(0);
    });

    it('chain names that are not valid Unicode (a lone surrogate) are refused', () => {
      const t = Table.openSync('filter', { family, netns: ns().ns });
      expect(() => t.createChain('bad\uD800')).toThrow(/lone surrogate/);
      expect(() => t.renameChain('web', '\uDC00x')).toThrow(IptcError);
    });
  });
}
