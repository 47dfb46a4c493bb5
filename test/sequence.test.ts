/**
 * Our own differential sequence test: seeded random iptables command
 * sequences sent to iptables-legacy in one namespace and through
 * applyCommand in a twin, for every table of both families, in two modes (a
 * commit per command, compared after each; one snapshot and one commit for
 * the whole sequence, compared at the end). Refusals and -C answers are
 * compared too. The rules are drawn from what is installed here
 * (test/sequences.ts). The seed is in every message, so a disagreement
 * replays: IPTC_SEQ_SEED=N. IPTC_SEQ_OPS sets the length (default 30 per
 * table, family and mode, 600 in all; run 5,000 locally).
 */
import { describe, expect, it } from 'vitest';
import { applyCommand, IptcError, Table, type FamilyName } from '../src/index.js';
import { splitWords } from '../src/words.js';
import { scratch, scratchPerTest, tool, type Scratch } from './helpers.js';
import { BUILTINS, poolFor, randomCommand, seeded } from './sequences.js';
import type { TableName } from '../src/names.js';

const ns = scratchPerTest();
const OPS = Number(process.env.IPTC_SEQ_OPS ?? 30);
const SEED = Number(process.env.IPTC_SEQ_SEED ?? 20261203);
// About 20 ms a command with a commit each; room for a slow machine.
const TIMEOUT = Math.max(60_000, OPS * 80);
/** Lets the test runner's own messages through on a long run (the commands are synchronous). */
const breathe = (i: number) => (i % 100 === 99 ? new Promise<void>((r) => setImmediate(r)) : undefined);

/**
 * Where iptables-legacy 1.8.9 disagrees with itself, named: ip6tables -C
 * compares a rule's matches by name and leaves out their options
 * (`-C OUTPUT -m mark --mark 0x3/0xff -j DROP` answers yes when only
 * `--mark 0x1/0xff` is there, and so for tcp/udp ports, conntrack states...),
 * while -D of the same words refuses; and `-m recent --mask`. When our -C
 * answer differs from iptables' -C, iptables is asked a second way (below);
 * a disagreement is let through only when that answer is ours and the rule
 * is one of these.
 */
const KNOWN_CHECK_QUIRKS: { name: string; applies: (family: FamilyName, spec: string) => boolean }[] = [
  { name: "ip6tables -C leaves out the matches' options", applies: (f, s) => f === 'ipv6' && /(?:^|\s)(?:-m|--match|-p|--protocol)\s/.test(s) },
  { name: '-m recent --mask', applies: (_f, s) => /-m recent\b.*--mask/.test(s) },
];

/**
 * The second way to ask iptables whether a chain holds a rule: add the rule
 * to an empty chain in a namespace of its own, save, and look for the line
 * iptables printed there in the chain's saved lines.
 */
function holdsBySave(ref: Scratch, family: FamilyName, table: string, chain: string, spec: string): boolean {
  const canon = scratch();
  try {
    canon.ipt(`-t ${table} -N probe`, family);
    canon.ipt(`-t ${table} -A probe ${spec}`, family);
    const line = /^-A probe (.*)$/m.exec(canon.save(family, table))![1]!;
    return ref.save(family, table).split('\n').includes(`-A ${chain} ${line}`);
  } finally {
    canon.close();
  }
}

/**
 * Built-in chains' policy counters. iptables-legacy 1.8.9 restarts them at
 * every commit, so after any command but a `-P … -c` they read zero; we keep
 * them, as iptables 1.8.10 does (README, deliberate differences). So the
 * saves are compared with policy counters left out, and ours are compared
 * with what the commands set: `-P CHAIN T -c P B` sets them, `-P` without
 * counters and `-Z` restart them.
 */
class PolicyCounters {
  readonly #set = new Map<string, string>();
  /** Follows a command iptables took. */
  take(cmd: string): void {
    const p = /^-P (\S+) \S+(?: -c (\d+) (\d+))?$/.exec(cmd);
    if (p) this.#set.set(p[1]!, p[2] ? `[${p[2]}:${p[3]}]` : '[0:0]');
    const z = /^-Z(?: (\S+))?$/.exec(cmd);
    if (z) (z[1] ? this.#set.delete(z[1]) : this.#set.clear());
  }
  /** The save without policy counters, after checking ours are the ones set. */
  strip(save: string, ours: boolean, what: string): string {
    return save.replace(/^:(\S+) (ACCEPT|DROP) (\[\d+:\d+\])$/gm, (_l, chain: string, policy: string, counters: string) => {
      if (ours) expect(counters, `${what}: policy counters of ${chain}`).toBe(this.#set.get(chain) ?? '[0:0]');
      return `:${chain} ${policy}`;
    });
  }
}

/**
 * iptables' answer to -C: yes (0); no (1, "Bad rule", or "No chain/target/match"
 * when the rule names an extension whose kernel module is not loaded); or
 * refused (2, a bad parameter).
 */
function checkAnswer(r: { status: number }): boolean | 'refused' {
  return r.status === 0 ? true : r.status === 1 ? false : 'refused';
}

const TABLES = Object.keys(BUILTINS) as TableName[];
let seedOffset = 0;

for (const family of ['ipv4', 'ipv6'] as const) {
  for (const table of TABLES) {
    const pool = poolFor(family, table);
    const name = `${family} ${table}`;
    describe(`random command sequences against iptables-legacy (${name}, seed ${SEED}, ${OPS} commands, ${pool.fixtures.length} fixture rules, ${pool.bare.length} bare extensions)`, () => {
      const offset = (seedOffset += 2);

      /** Runs our side of a command: its -C answer, or what refused it. */
      function run(ours: () => boolean | undefined): { answer?: boolean; refused?: unknown } {
        try {
          return { answer: ours() };
        } catch (e) {
          return { refused: e };
        }
      }

      /** Checks that our side refused what iptables refused, and gave the same -C answers. */
      function compare(ref: Scratch, theirs: { status: number; stderr: string }, ours: { answer?: boolean; refused?: unknown }, cmd: string, what: string): void {
        const { answer, refused } = ours;
        const refusedBy = `${what}: iptables-legacy refused it (${theirs.stderr.trim()})`;
        if (!cmd.startsWith('-C ')) {
          if (theirs.status !== 0) expect(refused, refusedBy).toBeInstanceOf(IptcError);
          else expect(refused, what).toBeUndefined();
          return;
        }
        const want = checkAnswer(theirs);
        if (want === 'refused') return void expect(refused, refusedBy).toBeInstanceOf(IptcError);
        // -C on a chain that is not there: iptables answers no; we say so (a difference
        // the README lists), and the iptc command exits 1 as iptables does.
        if (want === false && refused instanceof IptcError && refused.code === 'ERR_IPTC_NO_CHAIN') {
          return void expect(ref.save(family, table), `${what}: ${refused.message}`).not.toMatch(new RegExp(`^:${refused.chain} `, 'm'));
        }
        expect(refused, what).toBeUndefined();
        if (answer === want) return;
        const [, chain, spec] = /^-C (\S+) (.*)$/.exec(cmd)!;
        const quirk = KNOWN_CHECK_QUIRKS.find((q) => q.applies(family, spec!));
        expect(quirk, `${what}: iptables-legacy -C says ${want}, we say ${answer}`).toBeDefined();
        expect(holdsBySave(ref, family, table, chain!, spec!), `${what}: asked by save, iptables-legacy agrees with its -C (${quirk!.name})`).toBe(answer);
      }

      it('a commit per command: the same refusals and answers, the same table (with counters) after every command', async () => {
        const ref = ns();
        const ours = ns();
        const rnd = seeded(SEED + offset);
        const options = { family, netns: ours.ns, backend: 'legacy' } as const;
        const policies = new PolicyCounters();
        for (let i = 0; i < OPS; i++) {
          await breathe(i);
          const cmd = randomCommand(rnd, family, pool);
          const what = `${name}, seed ${SEED}, command ${i}: ${cmd}`;
          const theirs = ref.try(`${tool(family, '')} -w -t ${table} ${cmd}`);
          const check = cmd.startsWith('-C ');
          // -C commits nothing (an update would commit an unchanged table).
          const result = run(() =>
            check ? applyCommand(Table.openSync(table, options), splitWords(cmd)) : void Table.updateSync(table, options, (t) => applyCommand(t, splitWords(cmd))),
          );
          compare(ref, theirs, result, cmd, what);
          if (theirs.status === 0) policies.take(cmd);
          expect(policies.strip(ours.save(family, table, true), true, what), what).toBe(policies.strip(ref.save(family, table, true), false, what));
        }
      }, TIMEOUT);

      it('one snapshot and one commit for the whole sequence: the same refusals and answers, the same table at the end', async () => {
        const ref = ns();
        const ours = ns();
        const rnd = seeded(SEED + offset + 1);
        const open = () => Table.openSync(table, { family, netns: ours.ns, backend: 'legacy' });
        let t = open();
        const taken: string[] = [];
        let kernels = 0;
        for (let i = 0; i < OPS; i++) {
          await breathe(i);
          const cmd = randomCommand(rnd, family, pool);
          const what = `${name}, seed ${SEED}, command ${i}: ${cmd}`;
          const theirs = ref.try(`${tool(family, '')} -w -t ${table} ${cmd}`);
          const check = cmd.startsWith('-C ');
          const result = run(() => applyCommand(t, splitWords(cmd)));
          // iptables commits each command, so the kernel judges each: a loop, a target
          // outside its table or hooks, a module this kernel lacks. A snapshot takes
          // those and its commit would refuse them (the commit per command above shows
          // it does). Ask the kernel now, then take the command back by replaying the rest.
          if (!('refused' in result) && theirs.status !== 0 && !check) {
            const v = t.validateSync();
            expect(v.ok, `${what}: iptables-legacy refused it (${theirs.stderr.trim()}), the kernel takes our table`).toBe(false);
            kernels++;
            t = open();
            for (const c of taken) applyCommand(t, splitWords(c));
            continue;
          }
          compare(ref, theirs, result, cmd, what);
          if (!('refused' in result) && !check) taken.push(cmd);
        }
        expect(kernels).toBeLessThan(OPS / 2);
        t.commitSync();
        const what = `${name}, seed ${SEED}, the whole sequence`;
        // The same chains, rules and policies as iptables-legacy after each command...
        // (iptables-save prints policy counters even without -c: left out.)
        const policies = (save: string) => save.replace(/^(:\S+ \S+) \[\d+:\d+\]$/gm, '$1');
        expect(policies(ours.save(family, table)), what).toBe(policies(ref.save(family, table)));
        // ...and the same counters as iptables-legacy-restore -n given the commands as
        // one block: like a snapshot, one libiptc handle, in which -Z leaves the counters
        // that -c set in the same block (iptables, a commit per command, zeroes them).
        const batch = ns();
        batch.restore(`*${table}\n${taken.join('\n')}\nCOMMIT\n`, family, '-n');
        expect(ours.save(family, table, true), `${what}, against one iptables-legacy-restore -n block`).toBe(batch.save(family, table, true));
      }, TIMEOUT);
    });
  }
}
