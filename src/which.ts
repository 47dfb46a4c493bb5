/**
 * Which kernel firewall a table is read from. 'legacy' (xtables, what
 * iptables-legacy writes) and 'nft' (the nf_tables tables iptables-nft
 * writes) are what they say; 'auto', the default, decides per namespace and
 * family as a careful operator would:
 *  - the backend that holds rules there (legacy: a table with more than its
 *    built-in chains; nft: a table of iptables' name exists);
 *  - if both do, the one the host's `iptables` command is (the alternatives
 *    link, read, never run), with a warning, as iptables-nft warns of legacy
 *    tables;
 *  - if neither does, legacy: iptc-node cannot write nf_tables yet, and an
 *    empty namespace is one a program is about to fill.
 */
import { readlinkSync, realpathSync } from 'node:fs';
import type { Backend, BackendName } from './backend.js';
import { argumentError, show } from './errors.js';
import { legacy } from './legacy.js';
import { native, type FamilyName, type NativeBackendFacts } from './native.js';
import { TABLES } from './names.js';
import { nft } from './nftables.js';

export type BackendChoice = BackendName | 'auto';

export function checkBackend(b: unknown): BackendChoice {
  if (b === undefined) return 'auto';
  if (b !== 'legacy' && b !== 'nft' && b !== 'auto') throw argumentError(`backend must be 'legacy', 'nft' or 'auto', got ${show(b)}`);
  return b;
}

/** The backend named, or what 'auto' decides from the facts. */
export function decide(choice: BackendChoice, family: FamilyName, facts: () => NativeBackendFacts): Backend {
  if (choice === 'legacy') return legacy;
  if (choice === 'nft') return nft;
  const f = facts();
  const inLegacy = f.legacyWithRules.length > 0;
  const inNft = f.nftTables.some((t) => (TABLES as readonly string[]).includes(t));
  if (inLegacy && inNft) {
    const host = hostIptables(family) ?? 'legacy';
    process.emitWarning(
      `both iptables-legacy tables (${f.legacyWithRules.join(', ')}) and iptables-nft tables (${f.nftTables.join(', ')}) hold ${family} rules here; reading ${host}, which the host's ${family === 'ipv4' ? 'iptables' : 'ip6tables'} command uses (pass backend to choose)`,
      { code: 'IPTC_BOTH_BACKENDS' },
    );
    return host === 'nft' ? nft : legacy;
  }
  return inNft ? nft : legacy;
}

export async function resolveBackend(choice: BackendChoice, family: FamilyName, fd: number): Promise<Backend> {
  if (choice !== 'auto') return decide(choice, family, () => never());
  const facts = await native.backendFacts(family, fd, true);
  return decide(choice, family, () => facts);
}

export function resolveBackendSync(choice: BackendChoice, family: FamilyName, fd: number): Backend {
  return decide(choice, family, () => native.backendFacts(family, fd, false));
}

function never(): never {
  throw new Error('unreachable');
}

/**
 * What the host's `iptables` (or `ip6tables`) is: 'nft', 'legacy', or
 * undefined when it cannot be told (not installed, an unknown layout).
 * Follows the alternatives link as update-alternatives makes it.
 */
export function hostIptables(family: FamilyName): BackendName | undefined {
  const tool = family === 'ipv4' ? 'iptables' : 'ip6tables';
  for (const path of [`/etc/alternatives/${tool}`, `/usr/sbin/${tool}`, `/sbin/${tool}`]) {
    let target: string;
    try {
      target = path.startsWith('/etc/') ? readlinkSync(path) : realpathSync(path);
    } catch {
      continue;
    }
    if (/nft/.test(target)) return 'nft';
    if (/legacy/.test(target)) return 'legacy';
  }
  return undefined;
}
