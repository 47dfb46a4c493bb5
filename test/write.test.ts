import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { IptcError, Table, type FamilyName } from '../src/index.js';
import { runToEnd, scratchPerTest, tool } from './helpers.js';
import type { TableName } from '../src/names.js';

const ns = scratchPerTest();

async function rejects(p: Promise<unknown>): Promise<IptcError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IptcError);
    return e as IptcError;
  }
  throw new Error('expected a rejection');
}

for (const family of ['ipv4', 'ipv6'] as const) {
  describe(`commit, ${family}`, () => {
    it('is atomic: a rule the kernel refuses fails the commit, names the rule, and changes nothing', async () => {
      const s = ns();
      s.ipt('-A INPUT -p tcp --dport 22 -j ACCEPT', family);
      const before = s.save(family, 'filter', true);
      const t = await Table.open('filter', { family, netns: s.ns });
      t.append('INPUT', '-p tcp --dport 80 -j ACCEPT');
      t.createChain('web');
      t.append('web', '-j RETURN');
      t.append('OUTPUT', '-j MASQUERADE'); // MASQUERADE belongs to nat: the kernel says EINVAL
      t.append('INPUT', '-j web');
      const e = await rejects(t.commit());
      expect(e.code).toBe('ERR_IPTC_COMMIT');
      expect(e.errno).toBe(22);
      expect(e.chain).toBe('OUTPUT');
      expect(e.position).toBe(1);
      expect(e.rule).toBe('-j MASQUERADE');
      expect(s.save(family, 'filter', true)).toBe(before);
      // The same mistake committed synchronously: the same error, the rule named the same way.
      const u = Table.openSync('filter', { family, netns: s.ns });
      u.append('OUTPUT', '-p udp -j ACCEPT').append('OUTPUT', '-j MASQUERADE');
      let sync: IptcError | undefined;
      try {
        u.commitSync();
      } catch (x) {
        sync = x as IptcError;
      }
      expect(sync).toMatchObject({ code: 'ERR_IPTC_COMMIT', errno: 22, chain: 'OUTPUT', position: 2, rule: '-j MASQUERADE' });
      expect(sync!.message).toBe(e.message.replace('rule 1 of chain OUTPUT', 'rule 2 of chain OUTPUT'));
      expect(s.save(family, 'filter', true)).toBe(before);
      const v = u.validateSync();
      expect(v.problems.map((p) => [p.chain, p.position, p.rule])).toEqual([['OUTPUT', 2, '-j MASQUERADE']]);
      expect((await u.validate()).problems).toEqual(v.problems);
    });

    it('names the rule that closes a loop', () => {
      const s = ns();
      const t = Table.openSync('filter', { family, netns: s.ns });
      t.createChain('a').createChain('b').append('a', '-j b').append('INPUT', '-j a').append('b', '-p udp -j a');
      let e: IptcError | undefined;
      try {
        t.commitSync();
      } catch (x) {
        e = x as IptcError;
      }
      expect(e?.code).toBe('ERR_IPTC_COMMIT');
      expect(e?.errno).toBe(40); // ELOOP
      expect(s.save(family)).not.toContain(':a');
    });

    it('keeps the counters of rules it did not touch, and sets policy counters', async () => {
      const s = ns();
      s.sh('ip link set lo up');
      s.ipt('-A OUTPUT -o lo -j ACCEPT', family);
      s.sh(family === 'ipv4' ? 'ping -c 3 -i 0.01 -W 1 127.0.0.1' : 'ping -6 -c 3 -i 0.01 -W 1 ::1');
      const counted = s.save(family, 'filter', true).split('\n').find((l) => l.includes('-A OUTPUT -o lo'))!;
      expect(counted.startsWith('[6:')).toBe(true);
      const t = await Table.open('filter', { family, netns: s.ns });
      t.insert('OUTPUT', '-p udp --dport 53 -j ACCEPT', 1);
      t.append('INPUT', { protocol: 'tcp', matches: [{ name: 'tcp', options: { dport: 22 } }], target: 'ACCEPT', counters: { packets: 7n, bytes: 700n } });
      t.setPolicy('FORWARD', 'DROP', { packets: 5n, bytes: 50n });
      await t.commit();
      const after = s.save(family, 'filter', true);
      expect(after).toContain(counted);
      expect(after).toContain('[7:700] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT');
      expect(after).toContain(':FORWARD DROP [5:50]');
      expect(after).toContain('[0:0] -A OUTPUT -p udp -m udp --dport 53 -j ACCEPT');
    });

    it('keeps built-in policy counters across a commit (iptables 1.8.10; 1.8.9 restarts them), restarts them on -Z, -P without counters', async () => {
      const s = ns();
      s.sh('ip link set lo up');
      const ping = () => s.sh(family === 'ipv4' ? 'ping -c 3 -i 0.01 -W 1 127.0.0.1' : 'ping -6 -c 3 -i 0.01 -W 1 ::1');
      const policy = (chain: string) => / \[(\d+):(\d+)\]$/.exec(s.save(family, 'filter', true).split('\n').find((l) => l.startsWith(`:${chain} `))!)!.slice(1).map(Number);
      s.restore('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', family); // the table counts once it exists
      ping();
      const [before] = policy('OUTPUT');
      expect(before).toBeGreaterThanOrEqual(6);
      // The oracle: iptables-legacy 1.8.9 restarts them at any commit.
      const ref = ns();
      ref.sh('ip link set lo up');
      ref.restore('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', family);
      ref.sh(family === 'ipv4' ? 'ping -c 3 -i 0.01 -W 1 127.0.0.1' : 'ping -6 -c 3 -i 0.01 -W 1 ::1');
      ref.ipt('-A INPUT -j ACCEPT', family);
      expect(ref.save(family, 'filter', true)).toContain(':OUTPUT ACCEPT [0:0]');
      // iptc-node keeps them, through an async and a sync commit.
      await Table.update('filter', { family, netns: s.ns }, (t) => void t.append('INPUT', '-j ACCEPT'));
      expect(policy('OUTPUT')[0]).toBeGreaterThanOrEqual(before!);
      Table.updateSync('filter', { family, netns: s.ns }, (t) => void t.append('INPUT', '-j ACCEPT'));
      expect(policy('OUTPUT')[0]).toBeGreaterThanOrEqual(before!);
      // -Z restarts them (counting since the read), -P without counters too (as libiptc), -P with counters sets them.
      await Table.update('filter', { family, netns: s.ns }, (t) => void t.zero('OUTPUT'));
      expect(policy('OUTPUT')[0]).toBeLessThan(before!);
      ping();
      await Table.update('filter', { family, netns: s.ns }, (t) => void t.setPolicy('OUTPUT', 'ACCEPT'));
      expect(policy('OUTPUT')).toEqual([0, 0]);
      await Table.update('filter', { family, netns: s.ns }, (t) => void t.setPolicy('OUTPUT', 'ACCEPT', { packets: 9n, bytes: 99n }));
      expect(policy('OUTPUT')).toEqual([9, 99]);
    });

    it('refuses to overwrite a change made underneath it', async () => {
      const s = ns();
      s.ipt('-A INPUT -s 10.0.0.1 -j ACCEPT'.replace('10.0.0.1', family === 'ipv4' ? '10.0.0.1' : '2001:db8::1'), family);
      const t = await Table.open('filter', { family, netns: s.ns });
      t.append('INPUT', '-j DROP');
      // Same rule count, different rule: the kernel alone would not notice.
      s.ipt(`-R INPUT 1 -s ${family === 'ipv4' ? '10.0.0.2' : '2001:db8::2'} -j ACCEPT`, family);
      const theirs = s.save(family);
      const e = await rejects(t.commit());
      expect(e.code).toBe('ERR_IPTC_CONFLICT');
      expect(s.save(family)).toBe(theirs);
      // The helper re-reads, re-applies, commits.
      await Table.update('filter', { family, netns: s.ns }, (x) => void x.append('INPUT', '-j DROP'));
      expect(s.save(family)).toBe(theirs.replace('COMMIT', '-A INPUT -j DROP\nCOMMIT'));
    });

    it('waits for the xtables lock, and says so when it cannot have it in time', async () => {
      const s = ns();
      const lock = process.env.XTABLES_LOCKFILE!;
      const holder = spawn('flock', [lock, 'sleep', '3'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
      try {
        const t = await Table.open('filter', { family, netns: s.ns });
        t.append('INPUT', '-j ACCEPT');
        const started = Date.now();
        const e = await rejects(t.commit({ lockTimeout: 200 }));
        expect(e.code).toBe('ERR_IPTC_LOCK_TIMEOUT');
        expect(Date.now() - started).toBeGreaterThanOrEqual(190);
        expect(s.save(family)).not.toContain('-A INPUT');
        await t.commit({ lockTimeout: 10_000 }); // waits for the holder to let go
        expect(s.save(family)).toContain('-A INPUT -j ACCEPT');
      } finally {
        holder.kill();
      }
    });

    it('loses nothing with iptc-node and iptables-legacy writing at once', async () => {
      const s = ns();
      // Four processes, two of each kind, 500 rules each (IPv4; 100 for IPv6 to keep the suite short).
      const N = family === 'ipv4' ? 500 : 100;
      const run = runToEnd;
      const shellLoop = (prefix: string) =>
        `for i in $(seq 0 ${N - 1}); do ${tool(family, '')} -w -A INPUT -m comment --comment ${prefix}-$i -j ACCEPT || exit 1; done`;
      await Promise.all([
        run('node', ['test/workers/add-rules.mjs', s.ns.path, family, 'filter', 'INPUT', 'lib1', String(N)]),
        run('node', ['test/workers/add-rules.mjs', s.ns.path, family, 'filter', 'INPUT', 'lib2', String(N)]),
        run('nsenter', [`--net=${s.ns.path}`, 'sh', '-c', shellLoop('ipt1')]),
        run('nsenter', [`--net=${s.ns.path}`, 'sh', '-c', shellLoop('ipt2')]),
      ]);
      const lines = s.save(family).split('\n').filter((l) => l.startsWith('-A INPUT'));
      expect(lines.length).toBe(4 * N);
      for (const p of ['lib1', 'lib2', 'ipt1', 'ipt2']) {
        for (let i = 0; i < N; i++) expect(lines).toContain(`-A INPUT -m comment --comment ${p}-${i} -j ACCEPT`);
      }
    });

    it('commits several tables at once from concurrent promises', async () => {
      const s = ns();
      const tables: TableName[] = family === 'ipv4' ? ['filter', 'nat', 'mangle', 'raw'] : ['filter', 'mangle', 'raw'];
      await Promise.all(
        tables.map((name) =>
          Table.update(name, { family, netns: s.ns }, (t) => {
            const chain = t.chains()[0]!.name;
            for (let i = 0; i < 50; i++) t.append(chain, `-m comment --comment c${i} -j RETURN`);
          }),
        ),
      );
      for (const name of tables) {
        const t = await Table.open(name, { family, netns: s.ns });
        expect(t.save()).toBe(s.save(family, name));
        expect(t.rules(t.chains()[0]!.name).length).toBe(50);
      }
    });
  });
}

describe('snapshots', () => {
  it('a rule object read from one table appends to another as the same rule', () => {
    const a = ns();
    const b = ns();
    a.ipt('-A INPUT -s 10.1.0.0/16 ! -i eth0 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m comment --comment "web in" -j LOG --log-prefix "web: "');
    const rule = Table.openSync('filter', { netns: a.ns }).rules('INPUT')[0]!;
    const t = Table.openSync('filter', { netns: b.ns });
    t.append('INPUT', rule).commitSync();
    expect(b.save()).toBe(a.save());
  });

  it('is spent after a commit until reloaded', () => {
    const s = ns();
    const t = Table.openSync('filter', { netns: s.ns });
    t.append('INPUT', '-j ACCEPT').commitSync();
    expect(() => t.append('INPUT', '-j DROP')).toThrow(expect.objectContaining({ code: 'ERR_IPTC_SPENT' }));
    t.reloadSync().append('INPUT', '-j DROP').commitSync();
    expect(s.save()).toContain('-A INPUT -j ACCEPT\n-A INPUT -j DROP');
  });
});

export type { FamilyName };
