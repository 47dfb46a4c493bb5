import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { nftTables, nftWarning, Table } from '../src/index.js';
import { scratch, type Scratch } from './helpers.js';

const open: Scratch[] = [];
afterEach(() => {
  while (open.length) open.pop()!.close();
});

describe('iptables-nft beside the legacy tables', () => {
  it('lists the nf_tables tables iptables-nft made, and says so', async () => {
    const s = scratch();
    open.push(s);
    expect(await nftTables({ netns: s.ns })).toEqual([]);
    expect(nftWarning(await nftTables({ netns: s.ns }), 'ipv4')).toBeNull();
    s.sh('iptables-nft -A INPUT -p tcp --dport 22 -j ACCEPT && iptables-nft -A INPUT -j DROP && ip6tables-nft -A OUTPUT -j ACCEPT');
    const all = await nftTables({ netns: s.ns });
    // The oracle: what `nft list tables` names, and how many rules iptables-nft-save shows.
    const listed = s.sh('nft list tables').trim().split('\n').map((l) => l.replace(/^table /, '')).sort();
    expect(all.map((t) => `${t.family === 'ipv4' ? 'ip' : t.family === 'ipv6' ? 'ip6' : t.family} ${t.name}`).sort()).toEqual(listed);
    const rules4 = s.sh('iptables-nft-save').split('\n').filter((l) => l.startsWith('-A ')).length;
    expect(all.find((t) => t.family === 'ipv4' && t.name === 'filter')!.rules).toBe(rules4);
    expect(nftWarning(all, 'ipv4')).toMatch(/^iptables-nft tables present: ip filter \(2 rules\)\..*iptables-nft-save/);
    expect(nftWarning(all, 'ipv6')).toMatch(/ip6 filter \(1 rule\)/);
    // The legacy table is a different thing: still empty.
    expect(Table.openSync('filter', { netns: s.ns }).rules('INPUT')).toEqual([]);
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'save', '--netns', s.ns.path], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/^# Warning: iptables-nft tables present/);
  });
});
