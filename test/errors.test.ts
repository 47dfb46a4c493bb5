/**
 * Bad input of every kind: a clear IptcError (code, message saying what and
 * where), the process lives on, and the kernel table stays byte-identical.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CounterReader, IptcError, Netns, parseRule, restoreSync, Table, type RuleInput } from '../src/index.js';
import { scratch, tool, type Scratch } from './helpers.js';

let s: Scratch;
let before4: string;
let before6: string;
beforeAll(() => {
  s = scratch();
  s.restore('*filter\n:INPUT DROP [0:0]\n:svc - [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j svc\n-A svc -j RETURN\nCOMMIT\n');
  s.restore('*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n', 'ipv6');
  before4 = s.save('ipv4', 'filter', true);
  before6 = s.save('ipv6', 'filter', true);
});
afterAll(() => {
  expect(s.save('ipv4', 'filter', true)).toBe(before4);
  expect(s.save('ipv6', 'filter', true)).toBe(before6);
  s.close();
});

function fails(fn: () => unknown, code: string | RegExp, message?: RegExp): IptcError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'should have thrown').toBeInstanceOf(IptcError);
  const e = err as IptcError;
  expect(e.code).toMatch(code);
  if (message) expect(e.message).toMatch(message);
  return e;
}

const BAD_RULES: [string, RegExp][] = [
  ['-p tcp --dport 99999 -j ACCEPT', /port/],
  ['-p tcp --dport 22:11:1 -j ACCEPT', /port/],
  ['-p tcp --nosuchoption 1 -j ACCEPT', /unknown option "--nosuchoption"/],
  ['-m nosuchmatch -j ACCEPT', /nosuchmatch/],
  ['-j NOSUCHTARGET', /NOSUCHTARGET/],
  ['-g nochain', /not a chain/],
  ['-s 300.1.1.1 -j DROP', /300\.1\.1\.1/],
  ['-s 10.0.0.0/33 -j DROP', /mask|10\.0\.0\.0/],
  ['-s 10.0.0.0/255.0.255.300 -j DROP', /./],
  ['-d not_a_host.invalid. -j DROP', /not_a_host/],
  ['-i averyveryverylonginterfacename -j DROP', /interface/],
  ['-p nosuchproto -j ACCEPT', /protocol/],
  ['-p tcp -p udp -j ACCEPT', /multiple -p/],
  ['! -j ACCEPT', /!/],
  ['-j ACCEPT -j DROP', /multiple -j/],
  ['-m conntrack --ctstate BOGUS -j ACCEPT', /BOGUS/],
  ['-m limit --limit lots -j ACCEPT', /lots/],
  ['-j LOG --log-level 99', /log/i],
  ['-j REJECT --reject-with nothing', /nothing/],
  ['-p tcp --dport', /requires an argument/],
  ['stray -j ACCEPT', /Bad argument/],
  ['-j MARK', /MARK/],
  ['-m multiport --dports 1,2 -j ACCEPT', /multiport/],
];

describe('bad rules', () => {
  for (const family of ['ipv4', 'ipv6'] as const) {
    for (const [rule, msg] of BAD_RULES) {
      it(`${family}: ${rule.slice(0, 60)}`, () => {
        // The oracle refuses it too.
        expect(s.try(`${tool(family, '')} -w -A INPUT ${rule}`).status).not.toBe(0);
        const t = Table.openSync('filter', { family, netns: s.ns });
        const e = fails(() => t.append('INPUT', rule), /^ERR_IPTC_(PARSE|ARGUMENT)$/, msg);
        expect(e.chain).toBe('INPUT');
        expect(t.dirty).toBe(false);
        // Without a table, -g NAME can only be taken to name a chain.
        if (!rule.startsWith('-g')) fails(() => parseRule(rule, { family }), /^ERR_IPTC_(PARSE|ARGUMENT)$/);
      });
    }
  }
  it('rules only the kernel refuses fail the commit, as they fail iptables', () => {
    for (const rule of ['-m tcp --dport 22 -j ACCEPT', '-j MASQUERADE', '-j DNAT --to-destination 10.0.0.1', '-p udp -j REJECT --reject-with tcp-reset']) {
      expect(s.try(`${tool('ipv4', '')} -w -A INPUT ${rule}`).status, rule).not.toBe(0);
      const t = Table.openSync('filter', { netns: s.ns });
      let e: unknown;
      try {
        t.append('INPUT', rule);
        t.commitSync();
      } catch (x) {
        e = x;
      }
      expect(e, rule).toBeInstanceOf(IptcError);
    }
  });

  it('IPv4-only and IPv6-only syntax in the wrong family', () => {
    const t6 = Table.openSync('filter', { family: 'ipv6', netns: s.ns });
    fails(() => t6.append('INPUT', '-f -j DROP'), 'ERR_IPTC_PARSE', /-f/);
    fails(() => t6.append('INPUT', '-s 10.0.0.1 -j DROP'), 'ERR_IPTC_PARSE');
    fails(() => t6.append('INPUT', '-p icmp --icmp-type 8 -j DROP'), 'ERR_IPTC_PARSE');
    const t4 = Table.openSync('filter', { netns: s.ns });
    fails(() => t4.append('INPUT', '-s 2001:db8::1 -j DROP'), 'ERR_IPTC_PARSE');
  });
});

describe('bad arguments', () => {
  it('names, positions, policies, NUL bytes, huge input', () => {
    const t = Table.openSync('filter', { netns: s.ns });
    fails(() => t.append('NOCHAIN', '-j ACCEPT'), 'ERR_IPTC_NO_CHAIN', /no chain 'NOCHAIN'/);
    fails(() => t.insert('INPUT', '-j ACCEPT', 0), 'ERR_IPTC_ARGUMENT', /1-based/);
    fails(() => t.insert('INPUT', '-j ACCEPT', 4), 'ERR_IPTC_ARGUMENT', /between 1 and 3/);
    fails(() => t.delete('INPUT', 3), 'ERR_IPTC_NO_RULE');
    fails(() => t.replace('INPUT', 1.5, '-j ACCEPT'), 'ERR_IPTC_ARGUMENT');
    fails(() => t.delete('INPUT', '-p udp -j ACCEPT'), 'ERR_IPTC_NO_RULE', /no rule/);
    fails(() => t.setPolicy('INPUT', 'REJECT' as 'DROP'), 'ERR_IPTC_ARGUMENT', /ACCEPT or DROP/);
    fails(() => t.setPolicy('svc', 'DROP'), 'ERR_IPTC_ARGUMENT', /user chain/);
    fails(() => t.createChain('x'.repeat(29)), 'ERR_IPTC_ARGUMENT', /too long/);
    fails(() => t.createChain('has space'), 'ERR_IPTC_ARGUMENT', /whitespace/);
    fails(() => t.createChain('-dash'), 'ERR_IPTC_ARGUMENT');
    fails(() => t.createChain('LOG'), 'ERR_IPTC_ARGUMENT', /target/);
    fails(() => t.createChain('ACCEPT'), 'ERR_IPTC_ARGUMENT', /target/);
    fails(() => t.createChain('svc'), 'ERR_IPTC_EXISTS', /exists/);
    fails(() => t.createChain('nul\0byte'), 'ERR_IPTC_ARGUMENT', /NUL/);
    fails(() => t.deleteChain('svc'), 'ERR_IPTC_ARGUMENT', /not empty/);
    fails(() => t.deleteChain('INPUT'), 'ERR_IPTC_ARGUMENT', /built-in/);
    fails(() => t.renameChain('INPUT', 'x'), 'ERR_IPTC_ARGUMENT');
    fails(() => t.append('INPUT', '-m comment --comment a\0b -j ACCEPT'), 'ERR_IPTC_PARSE', /NUL/);
    fails(() => t.append('INPUT', ['-j', 'ACC\0EPT']), 'ERR_IPTC_PARSE', /NUL/);
    fails(() => t.append('INPUT', `-m comment --comment ${'y'.repeat(1 << 20)} -j ACCEPT`), 'ERR_IPTC_PARSE', /too long/);
    fails(() => t.append('INPUT', `${'-p tcp '.repeat(100_000)}-j ACCEPT`), 'ERR_IPTC_PARSE');
    fails(() => t.append('INPUT', `${'-m comment --comment c '.repeat(300)}-j ACCEPT`), 'ERR_IPTC_PARSE', /too large for the kernel/);
    fails(() => t.append('INPUT', 42 as unknown as string), 'ERR_IPTC_ARGUMENT');
    fails(() => t.append('INPUT', { target: { name: 'ACCEPT' }, matches: [{ name: 'tcp', options: { dport: 'x' } }] } as RuleInput), 'ERR_IPTC_PARSE');
    fails(() => t.append('INPUT', '-c 1 -j ACCEPT'), 'ERR_IPTC_PARSE', /-c/);
    // (Names outside TableName, as a JavaScript caller may give them: the types refuse them, the run-time checks too.)
    // @ts-expect-error not a TableName
    fails(() => Table.openSync('nosuchtable', { netns: s.ns }), 'ERR_IPTC_ABSENT', /nosuchtable/);
    // @ts-expect-error not a TableName
    fails(() => Table.openSync('nosuchtable', { netns: s.ns, ifMissing: 'create' }), 'ENOENT', /nosuchtable/);
    // @ts-expect-error not a TableName
    fails(() => Table.openSync('Bad Name', { netns: s.ns }), 'ERR_IPTC_ARGUMENT');
    // Every ERR_IPTC_ABSENT names its table in the field, not only in words.
    const fresh = Netns.create();
    try {
      expect(fails(() => new CounterReader('nat', { netns: fresh }), 'ERR_IPTC_ABSENT', /nat/).table).toBe('nat');
      expect(fails(() => Table.openSync('raw', { netns: fresh, ifMissing: 'error' }), 'ERR_IPTC_ABSENT').table).toBe('raw');
      // @ts-expect-error not a TableName
      expect(fails(() => Table.openSync('nosuchtable', { netns: fresh }), 'ERR_IPTC_ABSENT').table).toBe('nosuchtable');
    } finally {
      fresh.close();
    }
    fails(() => Table.openSync('filter', { family: 'ipv5' as 'ipv4', netns: s.ns }), 'ERR_IPTC_ARGUMENT');
    fails(() => Table.openSync('filter', { netns: s.ns, bogus: 1 } as never), 'ERR_IPTC_ARGUMENT', /bogus/);
    expect(t.dirty).toBe(false);
    expect(t.save({ counters: true })).toBe(before4);
  });

  it('namespaces that are closed, gone or not namespaces', () => {
    const ns = Netns.create();
    ns.close();
    fails(() => Table.openSync('filter', { netns: ns }), 'ERR_IPTC_NETNS', /closed/);
    fails(() => Table.openSync('filter', { netns: 'no-such-netns-here' }), 'ENOENT', /no-such-netns-here/);
    fails(() => Table.openSync('filter', { netns: '/proc/self/ns/mnt' }), /EINVAL|ERR_IPTC_NETNS/, /not a network namespace/);
    fails(() => Table.openSync('filter', { netns: '/etc/hostname' }), /EINVAL|ERR_IPTC_NETNS/);
  });

  it('restore input of every kind of wrong', () => {
    for (const text of ['\0', '*filter\n-A INPUT -j ACCEPT\0\nCOMMIT\n', 'garbage\n', '*filter\nCOMMIT\nCOMMIT\n', '*filter\n:INPUT ACCEPT [x:y]\nCOMMIT\n', `*filter\n-A INPUT ${'-m comment --comment z '.repeat(50_000)}\nCOMMIT\n`]) {
      fails(() => restoreSync(text, { netns: s.ns, counters: true }), /^ERR_IPTC_/);
    }
  });
});
