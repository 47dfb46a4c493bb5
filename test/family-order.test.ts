/**
 * A target library that registers one revision for one family and another
 * for any family (libxt_TOS: revision 0 for IPv4, 1 for all; libxt_MARK
 * likewise) must parse a rule the same whichever family the process used it
 * with first. Each order runs in a fresh node process (libxtables' state is
 * the process's), and the table it commits is compared with what
 * iptables-legacy-restore makes of the same rules in a twin namespace.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FamilyName } from '../src/index.js';
import { scratchPerTest, tool, type Scratch } from './helpers.js';

const ns = scratchPerTest();

// Options only the any-family revisions have (--or-tos, --and-mark, masks).
const RULES = ['-j TOS --or-tos 0x04', '-j TOS --set-tos 0x04/0x0f', '-j TOS --set-tos 0x10', '-j MARK --or-mark 0x1', '-j MARK --and-mark 0xf0', '-j MARK --set-xmark 0x2/0xff'];

/** In a fresh process: read the other family's mangle table holding the same targets, then commit RULES in `family`'s. */
function commitAfterOther(s: Scratch, family: FamilyName): { status: number | null; stderr: string } {
  const other = family === 'ipv4' ? 'ipv6' : 'ipv4';
  s.sh(`${tool(other, '-restore')}`, '*mangle\n-A OUTPUT -j TOS --set-tos 0x10\n-A OUTPUT -j MARK --set-xmark 0x1/0xff\nCOMMIT\n');
  const script = `
    const { Table } = await import(${JSON.stringify(join(process.cwd(), 'dist/index.js'))});
    const netns = ${JSON.stringify(s.ns.path)};
    const first = await Table.open('mangle', { family: '${other}', netns, backend: 'legacy' });
    if (first.rules('OUTPUT').length !== 2) throw new Error('the other family read nothing');
    const t = await Table.open('mangle', { family: '${family}', netns, backend: 'legacy' });
    for (const r of ${JSON.stringify(RULES)}) t.append('OUTPUT', r);
    await t.commit();
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('a target with per-family revisions, used by the other family first', () => {
  for (const family of ['ipv4', 'ipv6'] as const) {
    it(`${family} after ${family === 'ipv4' ? 'ipv6' : 'ipv4'}: the same rules as iptables-legacy-restore makes`, () => {
      const ref = ns();
      const ours = ns();
      ref.sh(`${tool(family, '-restore')}`, `*mangle\n${RULES.map((r) => `-A OUTPUT ${r}`).join('\n')}\nCOMMIT\n`);
      const r = commitAfterOther(ours, family);
      expect(r.status, r.stderr).toBe(0);
      expect(ours.save(family, 'mangle', true)).toBe(ref.save(family, 'mangle', true));
    });
  }
});
