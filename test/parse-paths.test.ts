/**
 * The shortcuts of the parser give what libxtables' own paths give: -s/-d
 * as a plain dotted quad skip its general address parser, and rules whose
 * parse depends only on their words are parsed once per process. Checked
 * against iptables-legacy-restore with the same text in a twin namespace.
 */
import { describe, expect, it } from 'vitest';
import { restore, restoreSync, Table } from '../src/index.js';
import { scratchPerTest } from './helpers.js';

const ns = scratchPerTest();
const block = (rules: string[]) => ['*filter', ':INPUT ACCEPT [0:0]', ...rules.map((r) => `-A INPUT ${r}`), 'COMMIT', ''].join('\n');

/** Each rule alone: accepted or refused as iptables-legacy-restore does, and saved alike when accepted. */
async function sameAsIptables(rules: string[], family: 'ipv4' | 'ipv6' = 'ipv4') {
  for (const rule of rules) {
    const text = block([rule]);
    const theirs = ns();
    const ours = ns();
    const ok = theirs.try(`${family === 'ipv4' ? 'iptables' : 'ip6tables'}-legacy-restore -w`, text).status === 0;
    let mine = true;
    try {
      await restore(text, { family, netns: ours.ns });
    } catch {
      mine = false;
    }
    expect(mine, `${rule}: iptables-legacy-restore ${ok ? 'accepts' : 'refuses'} it`).toBe(ok);
    if (ok) expect(ours.save(family), rule).toBe(theirs.save(family));
  }
}

describe('addresses', () => {
  it('dotted quads, prefixes, masks, leading zeros (octal to libxtables), hex, blanks, lists: as iptables reads them', async () => {
    const forms = [
      '1.2.3.4', '1.2.3.4/32', '10.1.2.3/24', '0.0.0.0/0', '0.0.0.0', '255.255.255.255/0', '192.168.1.77/16', '10.0.0.1/255.255.0.0',
      '010.1.2.3', '1.2.3.010/24', '0x0a.1.2.3', '1.2.3.4/024', '1.2.3.4/08', '1.2.3.4/33', '1.2.3.256', '1.2.3', '1.2.3.4.5',
      '1.2.3.4,5.6.7.8', '1.2.3.4/24,10.0.0.0/8', ' 1.2.3.4', '1.2.3.4/', '/24', '1.2.3.-1', '1..3.4', '01.2.3.4/0',
    ];
    await sameAsIptables(forms.flatMap((a) => [`-s "${a}" -j ACCEPT`, `-d "${a}" -j DROP`, `! -s "${a}" -j RETURN`]));
  });

  it('IPv6 as iptables reads it', async () => {
    const forms = ['::', '::/0', '::1', '2001:db8::1/64', 'fe80::1%lo', '2001:db8::/129', '2001:db8::1,2001:db8::2', '1.2.3.4'];
    await sameAsIptables(forms.map((a) => `-s "${a}" -j ACCEPT`), 'ipv6');
  });
});

describe('parses remembered', () => {
  it('the same rule parsed again, many times and in every way, gives the same table as iptables', async () => {
    const rules = [
      '-p tcp -m tcp --dport 22 -m comment --comment "ssh" -j ACCEPT',
      '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-m conntrack --ctorigsrc 10.0.0.1 --ctstate NEW -j LOG --log-prefix "new "',
      '-p udp -m multiport --dports 53,123 -m limit --limit 5/sec -j ACCEPT',
      '-i lo -j ACCEPT',
      '-s 192.0.2.0/24 -p icmp -m icmp --icmp-type 8 -j REJECT --reject-with icmp-host-prohibited',
    ];
    const text = block([...rules, ...rules, ...rules]);
    const theirs = ns();
    theirs.restore(text);
    for (let round = 0; round < 3; round++) {
      const ours = ns();
      if (round === 0) await restore(text, { netns: ours.ns });
      else if (round === 1) restoreSync(text, { netns: ours.ns });
      else {
        const t = await Table.open('filter', { netns: ours.ns });
        for (const r of [...rules, ...rules, ...rules]) t.append('INPUT', r);
        await t.commit();
      }
      expect(ours.save(), `round ${round}`).toBe(theirs.save());
    }
  });

  it('a refused rule stays refused when asked again', async () => {
    for (let i = 0; i < 3; i++) {
      const s = ns();
      await expect(restore(block(['-p tcp --dport 99999 -j ACCEPT']), { netns: s.ns })).rejects.toMatchObject({ code: 'ERR_IPTC_PARSE', line: 3 });
    }
  });

  it('rules that read the world are parsed each time: a user chain named like a target, a jump that becomes a chain', async () => {
    // -j NAME is an extension until a chain of that name exists; the same words then mean a jump.
    const s = ns();
    await restore(block(['-j LOG']), { netns: s.ns });
    expect(s.save()).toContain('-A INPUT -j LOG');
    await restore('*filter\n:INPUT ACCEPT [0:0]\n:web - [0:0]\n-A INPUT -j web\n-A web -j RETURN\nCOMMIT\n', { netns: s.ns });
    const t = await Table.open('filter', { netns: s.ns });
    expect(t.rules('INPUT')[0]!.target).toEqual({ name: 'web', kind: 'jump', options: [] });
  });
});
