/**
 * watch(): changes made by iptables-legacy in a scratch namespace come out
 * as events, in order; none is missed, bursts included. The proof is a
 * replica: a second namespace that starts alike and is given every event's
 * commands (through iptables-legacy-restore -n) must always end up with the
 * same iptables-legacy-save text as the watched one.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { watch, type TableChange } from '../src/index.js';
import type { FamilyName } from '../src/native.js';
import { nftTool, scratchPerTest, stripComments, tool, type Scratch } from './helpers.js';
import type { TableName } from '../src/names.js';

const ns = scratchPerTest();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Watching {
  events: TableChange[];
  /** Waits until the replica's table equals the watched one (every event so far replayed on it). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

async function watchWithReplica(s: Scratch, replica: Scratch, table: TableName = 'filter', family: FamilyName = 'ipv4', backend: 'legacy' | 'nft' = 'legacy'): Promise<Watching> {
  const restoreTool = backend === 'nft' ? nftTool(family, '-restore') : tool(family, '-restore');
  const save = (x: Scratch) => (backend === 'nft' ? stripComments(x.sh(`${nftTool(family, '-save')} -t ${table}`)) : x.save(family, table));
  replica.sh(`${restoreTool} -w`, save(s));
  const events: TableChange[] = [];
  const ac = new AbortController();
  const done = (async () => {
    for await (const c of watch(table, { family, netns: s.ns, backend, interval: 10, signal: ac.signal })) events.push(c);
  })();
  await sleep(150); // the baseline read
  let replayed = 0;
  return {
    events,
    async settle() {
      const end = Date.now() + 10_000;
      for (;;) {
        for (; replayed < events.length; replayed++) {
          const text = `*${table}\n${events[replayed]!.commands.join('\n')}\nCOMMIT\n`;
          const r = replica.try(`${restoreTool} -w -n`, text);
          if (r.status !== 0) throw new Error(`replaying ${JSON.stringify(events[replayed])}: ${r.stderr}`);
        }
        const want = save(s);
        if (save(replica) === want) {
          await sleep(50); // nothing more comes
          if (replayed === events.length) return;
          continue;
        }
        if (Date.now() > end) expect(save(replica)).toBe(want);
        await sleep(20);
      }
    },
    async stop() {
      ac.abort();
      await done;
    },
  };
}

describe('watch()', () => {
  it('each command made by iptables-legacy, one at a time, is one event, in order', async () => {
    const s = ns();
    const r = ns();
    s.ipt('-A INPUT -p tcp --dport 22 -j ACCEPT');
    const w = await watchWithReplica(s, r);
    const steps: [string, TableChange['type'], string?][] = [
      ['-A INPUT -p udp --dport 53 -j ACCEPT', 'rule-added', 'INPUT'],
      ['-I INPUT 1 -s 10.0.0.0/8 -j DROP', 'rule-added', 'INPUT'],
      ['-N services', 'chain-added', 'services'],
      ['-A services -p tcp --dport 443 -m comment --comment "web \\"tls\\"" -j ACCEPT', 'rule-added', 'services'],
      ['-A INPUT -j services', 'rule-added', 'INPUT'],
      ['-E services svc', 'chain-renamed', 'svc'],
      ['-P FORWARD DROP', 'policy', 'FORWARD'],
      ['-R INPUT 2 -p tcp --dport 2222 -j ACCEPT', 'rule-removed', 'INPUT'],
      ['-D INPUT -s 10.0.0.0/8 -j DROP', 'rule-removed', 'INPUT'],
      ['-F svc', 'rule-removed', 'svc'],
      ['-D INPUT -j svc', 'rule-removed', 'INPUT'],
      ['-X svc', 'chain-removed', 'svc'],
    ];
    let seen = 0;
    for (const [cmd, type, chain] of steps) {
      s.ipt(cmd);
      await w.settle();
      expect(w.events.length, cmd).toBeGreaterThan(seen);
      expect(w.events[seen]!.type, cmd).toBe(type);
      expect(w.events[seen]!.chain, cmd).toBe(chain);
      seen = w.events.length;
    }
    await w.stop();
    const byType = w.events.map((e) => e.commands.join(' ; '));
    // -R is a deletion and an addition at the same place.
    expect(byType).toContain('-I INPUT 2 -p tcp -m tcp --dport 2222 -j ACCEPT');
    expect(w.events.find((e) => e.type === 'chain-renamed')!.commands).toEqual(['-E services svc']);
    expect(w.events.find((e) => e.type === 'policy')).toMatchObject({ from: 'ACCEPT', to: 'DROP', commands: ['-P FORWARD DROP'] });
  });

  it('misses nothing across bursts: moves, duplicates, chains, both families', async () => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const s = ns();
      const r = ns();
      const w = await watchWithReplica(s, r, 'filter', family);
      // 200 appends in one go: each is an event, in the order made.
      const appends = Array.from({ length: 200 }, (_, i) => `-A INPUT -p tcp -m tcp --dport ${1000 + i} -j ACCEPT`);
      s.restore(`*filter\n${appends.join('\n')}\nCOMMIT\n`, family, '-n');
      for (let i = 0; i < 50; i++) s.ipt(`-A OUTPUT -p udp --dport ${i} -j ACCEPT`, family);
      await w.settle();
      expect(w.events.filter((e) => e.type === 'rule-added' && e.chain === 'INPUT').map((e) => e.commands[0])).toEqual(appends);
      expect(w.events.filter((e) => e.type === 'rule-added' && e.chain === 'OUTPUT').length).toBe(50);
      // Bursts of mixed commands, each run as fast as iptables can, the watch polling meanwhile.
      const burst = [
        '-D INPUT 1', '-A INPUT -p tcp -m tcp --dport 1000 -j ACCEPT', // a move to the end
        '-I INPUT 5 -j DROP', '-I INPUT 7 -j DROP', '-A INPUT -j DROP', // duplicates
        '-D INPUT 7', // one of them
        '-N a', '-N b', '-A a -j b', '-A INPUT -j a', '-E b c', '-P INPUT DROP',
        '-D INPUT 3', '-I INPUT 3 -p tcp -m tcp --dport 1002 -j ACCEPT', '-D INPUT 10', '-I INPUT 1 -p tcp -m tcp --dport 1009 -j ACCEPT',
        '-F OUTPUT', '-A OUTPUT -j ACCEPT', '-Z',
        '-D INPUT -j a', '-F a', '-X a', '-P INPUT ACCEPT',
      ];
      for (let round = 0; round < 3; round++) {
        const ipt = tool(family, '');
        const cmds = burst.map((c) => `${ipt} -w ${c}`).join(' && ');
        const p = spawn('nsenter', [`--net=${s.ns.path}`, 'sh', '-c', cmds], { stdio: 'inherit' });
        await new Promise((res) => p.on('exit', res));
        s.ipt('-X c', family);
        await w.settle();
      }
      expect(w.events.some((e) => e.type === 'rule-moved')).toBe(true);
      await w.stop();
    }
  });

  it('watches iptables-nft tables too', async () => {
    const s = ns();
    const r = ns();
    s.sh(`${nftTool('ipv4', '')} -A INPUT -p tcp --dport 22 -j ACCEPT`);
    const w = await watchWithReplica(s, r, 'filter', 'ipv4', 'nft');
    const nft = (cmd: string) => s.sh(`${nftTool('ipv4', '')} ${cmd}`);
    for (const [cmd, type] of [
      ['-A INPUT -p udp --dport 53 -j ACCEPT', 'rule-added'],
      ['-I INPUT 1 -s 10.0.0.0/8 -j DROP', 'rule-added'],
      ['-N svc', 'chain-added'],
      ['-P FORWARD DROP', 'policy'],
      ['-D INPUT 2', 'rule-removed'],
    ] as const) {
      const before = w.events.length;
      nft(cmd);
      await w.settle();
      expect(w.events[before]?.type, cmd).toBe(type);
    }
    nft('-D INPUT 1; iptables-nft -A INPUT -s 10.0.0.0/8 -j DROP; iptables-nft -X svc');
    await w.settle();
    await w.stop();
    expect(w.events.some((e) => e.type === 'rule-moved')).toBe(true);
  });

  it('is cheap when nothing changes, and ends when its signal fires', async () => {
    const s = ns();
    s.ipt('-A INPUT -j ACCEPT');
    const ac = new AbortController();
    const events: TableChange[] = [];
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 300);
    for await (const c of watch('filter', { netns: s.ns, interval: 5, signal: ac.signal })) events.push(c);
    expect(events).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(2000);
    await expect(watch('filter', { netns: s.ns, interval: 0 }).next()).rejects.toThrow(/interval/);
    expect(await watch('filter', { netns: s.ns, signal: AbortSignal.abort() }).next()).toEqual({ done: true, value: undefined });
    await expect(watch('filter', { netns: s.ns, signal: 'soon' as never }).next()).rejects.toMatchObject({ code: 'ERR_IPTC_ARGUMENT' });
    await expect(watch('nat', { netns: s.ns }).next()).rejects.toMatchObject({ code: 'ERR_IPTC_ABSENT' });
  });

  it('iptc watch prints each change as iptables arguments (-t for a table other than filter) and stops after --count', async () => {
    const s = ns();
    s.ipt('-t nat -A POSTROUTING -j RETURN');
    const p = spawn(process.execPath, ['dist/cli/main.js', 'watch', '-t', 'nat', '--netns', s.ns.path, '--interval', '10', '--count', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    onTestFinished(() => void (p.exitCode === null && p.signalCode === null && p.kill('SIGKILL')));
    await sleep(400);
    // Each change once the last is printed (two in one poll would come out in replay order instead).
    const printed = async (n: number) => {
      while (out.split('\n').length <= n && p.exitCode === null) await sleep(10);
    };
    s.ipt('-t nat -I POSTROUTING 1 -o lo -j MASQUERADE');
    await printed(1);
    s.ipt('-t nat -N mine');
    await printed(2);
    s.ipt('-t nat -D POSTROUTING -j RETURN');
    const code = await new Promise((res) => p.on('exit', res));
    expect(code, err).toBe(0);
    expect(out).toBe('-t nat -I POSTROUTING 1 -o lo -j MASQUERADE\n-t nat -N mine\n-t nat -D POSTROUTING -j RETURN\n');
    // What it printed is what iptables takes.
    const r = ns();
    r.ipt('-t nat -A POSTROUTING -j RETURN');
    for (const line of out.trim().split('\n')) r.ipt(line);
    expect(r.save('ipv4', 'nat')).toBe(s.save('ipv4', 'nat'));
  });
});
