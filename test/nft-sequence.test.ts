/**
 * The nf_tables twin of test/sequence.test.ts: seeded random iptables
 * command sequences on every table of both families, drawn from what is
 * installed here (test/sequences.ts), sent to iptables-nft in one namespace
 * and through applyCommand (backend 'nft', a commit per command) in a twin.
 * After every command: the same refusals and -C answers, and the same table
 * as iptables-nft-save -c prints it and as nft prints its bytecode. The seed
 * is in every message: IPTC_SEQ_SEED replays it, IPTC_SEQ_OPS sets the length
 * (default 20 per table and family).
 */
import { describe, expect, it } from 'vitest';
import { applyCommand, IptcError, Table, type FamilyName } from '../src/index.js';
import { splitWords } from '../src/words.js';
import { nftTool, scratchPerTest, stripComments, type Scratch } from './helpers.js';
import { BUILTINS, poolFor, randomCommand, seeded } from './sequences.js';
import type { TableName } from '../src/names.js';

const ns = scratchPerTest();
const OPS = Number(process.env.IPTC_SEQ_OPS ?? 20);
const SEED = Number(process.env.IPTC_SEQ_SEED ?? 20261203);
const TIMEOUT = Math.max(60_000, OPS * 150);
const nftFamily = (family: FamilyName) => (family === 'ipv4' ? 'ip' : 'ip6');
/** Lets the test runner's own messages through on a long run (the commands are synchronous). */
const breathe = (i: number) => (i % 25 === 24 ? new Promise<void>((r) => setImmediate(r)) : undefined);

const save = (s: Scratch, family: FamilyName, table: string) => stripComments(s.sh(`${nftTool(family, '-save')} -c -t ${table}`));

/** The table's bytecode as nft prints it, rule handles left out (each namespace numbers its own). */
function bytecode(s: Scratch, family: FamilyName, table: string): string {
  const r = s.try(`nft --debug=netlink list table ${nftFamily(family)} ${table}`);
  if (r.status !== 0) return `(no table: ${r.stderr.trim()})`;
  return r.stdout.replace(/^(ip6? \S+ \S+) \d+ \d+$/gm, '$1').replace(/^(ip6? \S+ \S+) \d+$/gm, '$1');
}

/**
 * ip6tables-nft 1.8.9 drops the counters given to a rule (`-A … -c P B`, and
 * `[P:B]` in ip6tables-nft-restore -c); iptables-nft sets them for IPv4, as
 * ip6tables-legacy does for IPv6, and so does iptc-node (README, nf_tables).
 * For IPv6 the rules' counters are left out of the comparison.
 */
function comparable(family: FamilyName, text: string): string {
  if (family === 'ipv4') return text;
  return text.replace(/^\[\d+:\d+\] -A /gm, '[*] -A ').replace(/\[ counter pkts \d+ bytes \d+ \]/g, '[ counter ]').replace(/counter packets \d+ bytes \d+/g, 'counter');
}

let seedOffset = 100;
for (const family of ['ipv4', 'ipv6'] as const) {
  for (const table of Object.keys(BUILTINS) as TableName[]) {
    const pool = poolFor(family, table);
    const offset = seedOffset++;
    describe(`random command sequences against iptables-nft (${family} ${table}, seed ${SEED}, ${OPS} commands)`, () => {
      it('a commit per command: the same refusals and -C answers, the same table and bytecode after every command', async () => {
        const [ref, ours] = [ns(), ns()];
        const rnd = seeded(SEED + offset);
        const options = { family, netns: ours.ns, backend: 'nft' } as const;
        for (let i = 0; i < OPS; i++) {
          await breathe(i);
          const cmd = randomCommand(rnd, family, pool);
          const what = `${family} ${table}, seed ${SEED}, command ${i}: ${cmd}`;
          const theirs = ref.try(`${nftTool(family, '')} -t ${table} ${cmd}`);
          let refused: unknown;
          let answer: boolean | undefined;
          try {
            if (cmd.startsWith('-C ')) answer = applyCommand(Table.openSync(table, options), splitWords(cmd));
            else Table.updateSync(table, options, (t) => applyCommand(t, splitWords(cmd)));
          } catch (e) {
            refused = e;
          }
          if (cmd.startsWith('-C ') && theirs.status <= 1) {
            if (!(refused instanceof IptcError && refused.code === 'ERR_IPTC_NO_CHAIN' && theirs.status === 1)) {
              expect(refused, what).toBeUndefined();
              expect(answer, `${what}: iptables-nft -C exited ${theirs.status}`).toBe(theirs.status === 0);
            }
          } else if (theirs.status !== 0) expect(refused, `${what}: iptables-nft refused it (${theirs.stderr.trim()})`).toBeInstanceOf(IptcError);
          else expect(refused, what).toBeUndefined();
          expect(comparable(family, save(ours, family, table)), what).toBe(comparable(family, save(ref, family, table)));
          expect(comparable(family, bytecode(ours, family, table)), what).toBe(comparable(family, bytecode(ref, family, table)));
        }
      }, TIMEOUT);
    });
  }
}
