/**
 * The table builder (src-native/legacy/build.cc) against libiptc's commit.
 *
 * Proves that the table Table.commit() builds is the one libiptc builds, byte
 * for byte: the same table is written by the iptables-legacy tools (libiptc)
 * in one scratch namespace and by iptc-node in a twin, and the kernel's
 * GET_ENTRIES bytes of both are compared whole (every entry header, match,
 * target, jump and fall-through verdict, padding, the kernel's comefrom) with
 * only the counters masked, together with the entry count and the chains
 * GET_INFO's hook entries and underflows give. Counters are compared on their
 * own where the test knows them. (What the kernel rewrites or keeps to itself
 * on SET_REPLACE, as counters, comefrom and extensions' private data past
 * their usersize, GET_ENTRIES cannot show.) Cases, both families:
 *   1. every fixture table: restore(); a commit of an unchanged snapshot; a
 *      commit of an append and a delete of the same rule;
 *   2. a few hundred seeded random iptables commands (BUILDER_SEED=n repeats a
 *      run, BUILDER_COMMANDS=k sets how many), one commit per command and
 *      all of them in one snapshot and one commit;
 *   3. restore -c with known counters, then one more commit.
 */
import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { applyCommand, IptcError, restore, Table, type FamilyName } from '../src/index.js';
import { native, type NativeTable } from '../src/native.js';
import { FIXTURES } from './fixtures.js';
import { scratchPerTest, tool, type Scratch } from './helpers.js';

const ns = scratchPerTest();
const SEED = process.env.BUILDER_SEED ? Number(process.env.BUILDER_SEED) >>> 0 : (Date.now() ^ (process.pid << 10)) >>> 0;
const COMMANDS = Number(process.env.BUILDER_COMMANDS ?? 300) || 300;
console.log(`builder.test: BUILDER_SEED=${SEED}`);

// ---- the kernel's bytes ----------------------------------------------------------

/** ipt_entry / ip6t_entry: the ip part, then nfcache, target_offset, next_offset, comefrom, counters, matches and target. */
const LAYOUT = { ipv4: { ip: 84, counters: 96, header: 112 }, ipv6: { ip: 136, counters: 152, header: 168 } } as const;
const u16 = (b: Buffer, at: number) => (endianness() === 'LE' ? b.readUInt16LE(at) : b.readUInt16BE(at));

/** A table as read, and where each entry starts. */
type Kernel = { family: FamilyName; t: NativeTable; starts: number[] };

function kernel(s: Scratch, family: FamilyName, table = 'filter'): Kernel {
  const t = native.readTable(family, table, s.ns.fd, false, true);
  if ('absent' in t) throw new Error(`no ${family} ${table} table`);
  const starts: number[] = [];
  for (let at = 0, next = 1; at < t.blob.length && next > 0; at += next) {
    starts.push(at);
    next = u16(t.blob, at + LAYOUT[family].ip + 6);
  }
  return { family, t, starts };
}

function bytesOf(k: Kernel, counters: boolean): Buffer {
  if (counters) return k.t.blob;
  const b = Buffer.from(k.t.blob);
  const c = LAYOUT[k.family].counters;
  for (const at of k.starts) b.fill(0, at + c, at + c + 16);
  return b;
}

/** '' when both tables are the same bytes (counters masked unless `counters`), else what differs first. */
function differ(a: Kernel, b: Kernel, counters = false): string {
  // Chains as parsed with GET_INFO's hook_entry and underflow: name, hook, policy, foot entry, rules.
  const shape = (k: Kernel) => JSON.stringify(k.t.chains.map(([name, hook, policy, , , foot, first, count]) => [name, hook, policy, foot, first, count]));
  if (a.t.numEntries !== b.t.numEntries || shape(a) !== shape(b)) return `chains: ${shape(a)} (${a.t.numEntries} entries) vs ${shape(b)} (${b.t.numEntries})`;
  const [x, y] = [bytesOf(a, counters), bytesOf(b, counters)];
  if (x.equals(y)) return '';
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  let e = a.starts.length - 1;
  while (e > 0 && a.starts[e]! > i) e--;
  const at = a.starts[e]!;
  const { ip, counters: c, header } = LAYOUT[a.family];
  const off = i - at;
  const fields: [number, string][] = [[ip, 'ip'], [ip + 4, 'nfcache'], [ip + 6, 'target_offset'], [ip + 8, 'next_offset'], [ip + 12, 'comefrom'], [c, 'padding'], [header, 'counters']];
  const field = fields.find(([end]) => off < end)?.[1] ?? (off < u16(x, at + ip + 4) ? 'a match' : 'the target');
  const hex = (buf: Buffer) => buf.subarray(at, at + u16(buf, at + ip + 6)).toString('hex');
  return `${x.length} vs ${y.length} bytes; first difference at byte ${i}: entry ${e} (at ${at}) +${off}, in ${field}\n libiptc:   ${hex(x)}\n iptc-node: ${hex(y)}`;
}

// ---- case 1: every fixture table -------------------------------------------------

const PROBE = '-m comment --comment probe -j ACCEPT';

describe('the builder writes what libiptc writes: fixture tables', () => {
  for (const fx of FIXTURES) {
    it(`${fx.family} ${fx.table}: restore, an unchanged commit, an append and delete of one rule`, async () => {
      const [a, b] = [ns(), ns()];
      const where = { family: fx.family, netns: b.ns };
      a.restore(fx.text, fx.family);
      await restore(fx.text, where);
      const ref = kernel(a, fx.family, fx.table);
      expect(differ(ref, kernel(b, fx.family, fx.table)), 'restore').toBe('');
      expect(b.save(fx.family, fx.table, true)).toBe(a.save(fx.family, fx.table, true));
      await (await Table.open(fx.table, where)).commit();
      expect(differ(ref, kernel(b, fx.family, fx.table)), 'a commit of the table as read').toBe('');
      const t = await Table.open(fx.table, where);
      const chain = t.chains()[0]!.name;
      await t.append(chain, PROBE).delete(chain, PROBE).commit();
      expect(differ(ref, kernel(b, fx.family, fx.table)), 'a commit of an append and a delete').toBe('');
      Table.openSync(fx.table, where).append(chain, PROBE).commitSync();
      a.ipt(`-t ${fx.table} -A ${chain} ${PROBE}`, fx.family);
      expect(differ(kernel(a, fx.family, fx.table), kernel(b, fx.family, fx.table)), 'one rule appended').toBe('');
    });
  }
});

// ---- case 2: random command sequences --------------------------------------------

/** mulberry32 */
function rng(s: number) {
  const int = (n: number) => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  return { int, range: (lo: number, hi: number) => lo + int(hi - lo + 1), pick: <T>(a: readonly T[]): T => a[int(a.length)]! };
}
type Rng = ReturnType<typeof rng>;

/** A rule as the model keeps it: its words, and the user chain it jumps or goes to (which follows renames). */
interface Entry { words: string; jump?: { how: '-j' | '-g'; to: string } }
const spec = (e: Entry) => (e.jump ? `${e.words} ${e.jump.how} ${e.jump.to}`.trim() : e.words);
/** The chains: rank -1 for built-ins; a user chain only jumps to chains of higher rank, so no loop is ever made. */
type Model = Map<string, { rank: number; rules: Entry[] }>;

const NAMES = ['web', 'LOGS', 'a', 'b2', 'zeta', 'Mid', 'ssh_in', 'x-y', 'chain9', 'Z', 'a-chain-name-of-28-chars-xyz'];

/** Rules to add to `chain`: one spec, and the entries it makes (several for several addresses). */
function rules(r: Rng, family: FamilyName, m: Model, chain: string): { text: string; entries: Entry[] } {
  const n = r.range(1, 250);
  const addr = (k: number) => (family === 'ipv4' ? `10.0.0.${k}/32` : `2001:db8::${k.toString(16)}/128`);
  const rank = m.get(chain)!.rank;
  const targets = [...m].filter(([, c]) => c.rank > rank).map(([name]) => name);
  if (targets.length && r.int(4) === 0) {
    const words = r.pick(['', `-p tcp --dport ${n}`, `-s ${addr(n)}`, `-m comment --comment "j ${n}"`]);
    const e: Entry = { words, jump: { how: r.pick(['-j', '-g'] as const), to: r.pick(targets) } };
    return { text: spec(e), entries: [e] };
  }
  if (r.int(10) === 0) {
    const [x, y, tail] = [addr(n), addr(r.range(1, 250)), `-p tcp --dport ${n} -j ACCEPT`];
    return { text: `-s ${x},${y} ${tail}`, entries: [{ words: `-s ${x} ${tail}` }, { words: `-s ${y} ${tail}` }] };
  }
  const words = r.pick([
    `-p tcp --dport ${n} -j ACCEPT`,
    `-s ${addr(n)} -j DROP`,
    `-d ${addr(n)} -p udp -j QUEUE`,
    `-m comment --comment "c ${n}" -j RETURN`,
    `-j LOG --log-prefix "x${n} "`,
    '-m conntrack --ctstate NEW -j ACCEPT',
    `-m limit --limit ${n}/min`, // no target: falls through to the next entry
    `-p udp -m multiport --dports ${n},${n + 1} -j REJECT`,
    family === 'ipv4' ? '-p icmp --icmp-type echo-request -j ACCEPT' : '-p ipv6-icmp --icmpv6-type echo-request -j ACCEPT',
  ]);
  return { text: words, entries: [{ words }] };
}

/** One command iptables accepts (as far as the model knows), and what it does to the model. */
function command(r: Rng, family: FamilyName, m: Model): { cmd: string; apply: () => void } {
  const all = [...m.keys()];
  const user = all.filter((c) => m.get(c)!.rank >= 0);
  const chain = r.pick(all);
  const c = m.get(chain)!;
  const len = c.rules.length;
  const refs = (to: string) => all.flatMap((from) => m.get(from)!.rules.flatMap((e, k) => (e.jump?.to === to ? [[from, k + 1] as const] : [])));
  const free = NAMES.filter((n) => !m.has(n));
  switch (r.pick(['A', 'A', 'A', 'A', 'A', 'A', 'I', 'I', 'I', 'R', 'R', 'D', 'D', 'd', 'd', 'N', 'N', 'X', 'E', 'F', 'P', 'Z', 'all'])) {
    case 'I': {
      const at = r.range(1, len + 1);
      const { text, entries } = rules(r, family, m, chain);
      return { cmd: `-I ${chain} ${at === 1 && r.int(2) ? '' : at} ${text}`, apply: () => c.rules.splice(at - 1, 0, ...entries.reverse()) };
    }
    case 'R': {
      if (!len) break;
      const [at, { text, entries }] = [r.range(1, len), rules(r, family, m, chain)];
      return { cmd: `-R ${chain} ${at} ${text}`, apply: () => c.rules.splice(at - 1, 1, ...entries) };
    }
    case 'D': {
      const at = r.range(1, len);
      if (len) return { cmd: `-D ${chain} ${at}`, apply: () => c.rules.splice(at - 1, 1) };
      break;
    }
    case 'd': {
      const text = len ? spec(r.pick(c.rules)) : '';
      if (len) return { cmd: `-D ${chain} ${text}`, apply: () => c.rules.splice(c.rules.findIndex((e) => spec(e) === text), 1) };
      break;
    }
    case 'N': {
      const name = r.pick(free);
      if (name) return { cmd: `-N ${name}`, apply: () => m.set(name, { rank: Math.max(0, ...[...m.values()].map((x) => x.rank + 1)), rules: [] }) };
      break;
    }
    case 'X': {
      // Deletes a chain, or works towards it: flush it, or delete a rule that jumps to it.
      if (!user.length) break;
      const name = r.pick(user);
      const x = m.get(name)!;
      if (x.rules.length) return { cmd: `-F ${name}`, apply: () => (x.rules = []) };
      const [from, k] = refs(name)[0] ?? [];
      if (from) return { cmd: `-D ${from} ${k}`, apply: () => m.get(from)!.rules.splice(k! - 1, 1) };
      return { cmd: `-X ${name}`, apply: () => m.delete(name) };
    }
    case 'E':
      if (user.length && free.length) {
        const [from, to] = [r.pick(user), r.pick(free)];
        return {
          cmd: `-E ${from} ${to}`,
          apply: () => {
            m.set(to, m.get(from)!).delete(from);
            for (const x of m.values()) for (const e of x.rules) if (e.jump?.to === from) e.jump.to = to;
          },
        };
      }
      break;
    case 'F':
      return { cmd: `-F ${chain}`, apply: () => (c.rules = []) };
    case 'P':
      return { cmd: `-P ${r.pick(['INPUT', 'FORWARD', 'OUTPUT'])} ${r.pick(['ACCEPT', 'DROP'])}`, apply: () => {} };
    case 'Z':
      return { cmd: r.pick(['-Z', `-Z ${chain}`, len ? `-Z ${chain} ${r.range(1, len)}` : '-Z']), apply: () => {} };
    case 'all': // now and then -F or -X of every chain (-X fails unless all user chains are empty)
      if (r.int(3)) break;
      if (r.int(2)) return { cmd: '-F', apply: () => m.forEach((x) => (x.rules = [])) };
      return { cmd: '-X', apply: () => user.forEach((n) => m.delete(n)) };
  }
  const { text, entries } = rules(r, family, m, chain);
  return { cmd: `-A ${chain} ${text}`, apply: () => c.rules.push(...entries) };
}

/** The kernel's table as the model sees it: per chain, what each rule jumps to. */
function jumpsOf(k: Kernel): Record<string, string[]> {
  const { chains, jumps } = k.t;
  return Object.fromEntries(chains.map(([name, , , , , , first, count]) => [name, [...jumps.subarray(first, first + count)].map((j) => (j >= 0 ? chains[j]![0] : ''))]));
}
const modelJumps = (m: Model) => Object.fromEntries([...m].map(([name, c]) => [name, c.rules.map((e) => e.jump?.to ?? '')]));

for (const family of ['ipv4', 'ipv6'] as const) {
  describe(`the builder writes what libiptc writes: ${COMMANDS} random commands, ${family}`, () => {
    it(`one commit per command, and all in one commit (BUILDER_SEED=${SEED})`, { timeout: 300_000 }, async () => {
      const r = rng(SEED ^ (family === 'ipv4' ? 0 : 0x9e3779b9));
      const [a, b, c] = [ns(), ns(), ns()];
      const model: Model = new Map(['INPUT', 'FORWARD', 'OUTPUT'].map((n) => [n, { rank: -1, rules: [] }]));
      const done: { cmd: string; ok: boolean }[] = [];
      for (let i = 0; i < COMMANDS; i++) {
        const { cmd, apply } = command(r, family, model);
        const label = `command ${i + 1} (BUILDER_SEED=${SEED}): ${cmd}`;
        const theirs = a.try(`${tool(family, '')} -w ${cmd}`);
        let ours: unknown = null;
        try {
          const t = Table.openSync('filter', { family, netns: b.ns });
          applyCommand(t, cmd);
          t.commitSync();
        } catch (e) {
          ours = e;
        }
        done.push({ cmd, ok: theirs.status === 0 });
        if (theirs.status !== 0) {
          expect(ours, `${label}: iptables refuses it (${theirs.stderr.trim()}), so must iptc-node`).toBeInstanceOf(IptcError);
          continue;
        }
        expect(ours, label).toBe(null);
        apply();
        const ref = kernel(a, family);
        expect(jumpsOf(ref), `${label}: the test's model of the table`).toEqual(modelJumps(model));
        expect(differ(ref, kernel(b, family)), label).toBe('');
      }
      // The same commands, one snapshot, one commit (the table does not exist before it).
      const t = await Table.open('filter', { family, netns: c.ns });
      for (const { cmd, ok } of done) {
        if (ok) applyCommand(t, cmd);
        else expect(() => applyCommand(t, cmd), `${cmd}: refused by iptables`).toThrow(IptcError);
      }
      await t.commit();
      expect(differ(kernel(a, family), kernel(c, family)), `all ${done.length} commands in one commit`).toBe('');
      // No traffic: every counter is zero in all three.
      expect(b.save(family, 'filter', true)).toBe(a.save(family, 'filter', true));
      expect(c.save(family, 'filter', true)).toBe(a.save(family, 'filter', true));
      const refused = done.filter((d) => !d.ok).length;
      console.log(`builder.test ${family}: ${done.length - refused} commands compared, ${refused} refused by both`);
    });
  });
}

// ---- case 3: counters ------------------------------------------------------------

describe('the builder writes what libiptc writes: counters', () => {
  for (const fx of FIXTURES) {
    it(`${fx.family} ${fx.table}: restore -c, then one more commit`, async () => {
      let k = 0;
      const text = fx.text
        .replace(/^(:[A-Z]+ (?:ACCEPT|DROP)) \[0:0\]$/gm, (_, head: string) => `${head} [${++k}:${k * 1000}]`)
        .replace(/^-A /gm, () => `[${++k}:${k * 100}] -A `);
      const [a, b] = [ns(), ns()];
      const where = { family: fx.family, netns: b.ns };
      a.restore(text, fx.family, '-c');
      await restore(text, { ...where, counters: true });
      const saved = a.save(fx.family, fx.table, true);
      expect(saved).toContain(`[${k}:${k * 100}] -A `);
      expect(b.save(fx.family, fx.table, true)).toBe(saved);
      // Nothing counts in a scratch namespace: the counters are exactly the given ones, so compare them as bytes too.
      expect(differ(kernel(a, fx.family, fx.table), kernel(b, fx.family, fx.table), true)).toBe('');
      const t = await Table.open(fx.table, where);
      const chain = t.chains()[0]!.name;
      applyCommand(t, `-I ${chain} 1 ${PROBE}`);
      await t.commit();
      a.ipt(`-t ${fx.table} -I ${chain} 1 ${PROBE}`, fx.family);
      expect(differ(kernel(a, fx.family, fx.table), kernel(b, fx.family, fx.table))).toBe('');
      // Rule counters are kept by both. Built-in policy counters: iptc-node keeps them across a
      // commit (iptables 1.8.10's behaviour); libiptc 1.8.9 restarts them at every commit, so the
      // oracle shows [0:0] there (or, from 1.8.10 on, the same as iptc-node).
      const policies = (s: string) => s.split('\n').filter((l) => /^:[A-Z]+ (ACCEPT|DROP) /.test(l));
      const ours = b.save(fx.family, fx.table, true);
      expect(policies(ours)).toEqual(policies(saved));
      const theirs = a.save(fx.family, fx.table, true);
      policies(theirs).forEach((l, i) => expect(l === policies(ours)[i] || l.endsWith(' [0:0]'), l).toBe(true));
      const zeroed = (s: string) => s.replace(/^(:[A-Z]+ (?:ACCEPT|DROP)) \[\d+:\d+\]$/gm, '$1 [0:0]');
      expect(zeroed(ours)).toBe(zeroed(theirs));
    });
  }
});
