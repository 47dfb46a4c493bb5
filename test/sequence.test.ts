/**
 * Our own differential sequence test: seeded random iptables command
 * sequences sent to iptables-legacy in one namespace and through
 * applyCommand in a twin, in two modes (a commit per command, compared after
 * each; one snapshot and one commit for the whole sequence, compared at the
 * end), both families. Refusals are compared too. The seed is in every
 * message, so a disagreement replays: IPTC_SEQ_SEED=N. IPTC_SEQ_OPS sets
 * the length (default 120 per family and mode; run 5,000 locally).
 */
import { describe, expect, it } from 'vitest';
import { applyCommand, IptcError, Table } from '../src/index.js';
import { splitWords } from '../src/words.js';
import { scratchPerTest, tool } from './helpers.js';
import { randomCommand, seeded } from './sequences.js';

const ns = scratchPerTest();
const OPS = Number(process.env.IPTC_SEQ_OPS ?? 120);
const SEED = Number(process.env.IPTC_SEQ_SEED ?? 20261203);
// About 20 ms a command with a commit each; room for a slow machine.
const TIMEOUT = Math.max(60_000, OPS * 60);
/** Lets the test runner's own messages through on a long run (the commands are synchronous). */
const breathe = (i: number) => (i % 100 === 99 ? new Promise<void>((r) => setImmediate(r)) : undefined);

for (const family of ['ipv4', 'ipv6'] as const) {
  describe(`random command sequences against iptables-legacy (${family}, seed ${SEED}, ${OPS} commands)`, () => {
    it('a commit per command: the same refusals, the same table (with counters) after every command', async () => {
      const ref = ns();
      const ours = ns();
      const rnd = seeded(SEED + (family === 'ipv4' ? 0 : 1));
      let accepted = 0;
      for (let i = 0; i < OPS; i++) {
        await breathe(i);
        const cmd = randomCommand(rnd, family);
        const theirs = ref.try(`${tool(family, '')} -w ${cmd}`);
        let refused: unknown;
        try {
          Table.updateSync('filter', { family, netns: ours.ns, backend: 'legacy' }, (t) => applyCommand(t, splitWords(cmd)));
        } catch (e) {
          refused = e;
        }
        const what = `seed ${SEED}, command ${i}: ${cmd}`;
        if (theirs.status !== 0) expect(refused, `${what}: iptables-legacy refused it (${theirs.stderr.trim()})`).toBeInstanceOf(IptcError);
        else expect(refused, what).toBeUndefined();
        expect(ours.save(family, 'filter', true), what).toBe(ref.save(family, 'filter', true));
        if (theirs.status === 0) accepted++;
      }
      expect(accepted).toBeGreaterThan(OPS / 3);
    }, TIMEOUT);

    it('one snapshot and one commit for the whole sequence: the same refusals, the same table at the end', async () => {
      const ref = ns();
      const ours = ns();
      const rnd = seeded(SEED + (family === 'ipv4' ? 2 : 3));
      const t = Table.openSync('filter', { family, netns: ours.ns, backend: 'legacy' });
      let loops = 0;
      for (let i = 0; i < OPS; i++) {
        await breathe(i);
        const cmd = randomCommand(rnd, family);
        const theirs = ref.try(`${tool(family, '')} -w ${cmd}`);
        // A rule that closes a loop is the kernel's to refuse, at a commit (ELOOP): here
        // iptables commits each command, the snapshot only at the end. That commit's
        // refusal, naming the rule, is tested in write.test.ts; the sequence leaves it out.
        if (/Too many levels of symbolic links/.test(theirs.stderr)) {
          loops++;
          continue;
        }
        let refused: unknown;
        try {
          applyCommand(t, splitWords(cmd));
        } catch (e) {
          refused = e;
        }
        const what = `seed ${SEED}, command ${i}: ${cmd}`;
        if (theirs.status !== 0) expect(refused, `${what}: iptables-legacy refused it (${theirs.stderr.trim()})`).toBeInstanceOf(IptcError);
        else expect(refused, what).toBeUndefined();
      }
      expect(loops).toBeLessThan(OPS / 10);
      t.commitSync();
      // (Counters aside: packets never flow here, and -Z in one snapshot is zero either way.)
      expect(ours.save(family, 'filter', true), `seed ${SEED}, the whole sequence`).toBe(ref.save(family, 'filter', true));
    }, TIMEOUT);
  });
}
