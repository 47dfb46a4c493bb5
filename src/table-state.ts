/**
 * What a Table holds: its snapshot, where the snapshot came from (backend,
 * namespace, base read), what may be done with it, and the checks every
 * command makes first (the chain exists, the table can be changed, a
 * position is in range). Table (table.ts) owns one and keeps it private; the
 * modules that carry out its commands (table-chains.ts, table-commit.ts)
 * are handed it.
 * @internal
 */
import type { Backend, Base, Read, SkippedRule } from './backend.js';
import { IptcError } from './errors.js';
import { native, type FamilyName } from './native.js';
import type { NetnsOption } from './netns.js';
import type { TableName } from './names.js';
import type { ChainState, Snapshot } from './snapshot.js';

export class TableState {
  /** Changes made since the read (table.dirty). */
  changes = 0;
  /** Committed: open again (or reload) to change further. */
  spent = false;
  /** Set by update(), which holds the xtables lock itself around read and commit. */
  lockHeld = false;
  /** Read by update() to change and commit at once (nf_tables may answer from what it last knew). */
  forChange = false;
  /** A copy made in memory (from text, see tableFromText): read and compare it, never commit it. */
  detached = false;
  /** Why this table cannot be committed through its backend, if it cannot. */
  readOnly: string | undefined;
  /** nf_tables: the built-in chains that exist there. */
  present: Set<string> | undefined;
  skipped: readonly SkippedRule[] = [];

  constructor(
    readonly table: TableName,
    readonly family: FamilyName,
    readonly netns: NetnsOption,
    readonly backend: Backend,
    public snap: Snapshot,
    public base: Base,
    /** From openSync(): each rule is parsed when given. */
    readonly eager: boolean,
  ) {}

  /** What a read says beyond the snapshot: read-only, rules left out, the base chains nf_tables has. */
  adopt(r: Read | null): void {
    this.readOnly = r?.readOnly;
    // (An nf_tables table not there yet has no base chains either.)
    this.present = r?.presentBaseChains ? new Set(r.presentBaseChains) : this.backend.name === 'nft' ? new Set() : undefined;
    this.skipped = Object.freeze(r?.skipped ?? []);
  }

  /** A new read replaces the snapshot, dropping changes. */
  reset([snap, base]: [Snapshot, Base]): void {
    this.snap = snap;
    this.base = base;
    this.changes = 0;
    this.spent = false;
  }

  need(chain: string): ChainState {
    if (typeof chain !== 'string') throw new IptcError(`chain must be a string, got ${typeof chain}`, { code: 'ERR_IPTC_ARGUMENT' });
    const c = this.snap.find(chain);
    if (!c) throw new IptcError(`no chain '${chain}' in table ${this.table}`, { code: 'ERR_IPTC_NO_CHAIN', table: this.table, chain });
    return c;
  }

  /**
   * A chain a command names that makes it (-A, -I, -F, -P): on nf_tables,
   * iptables-nft makes a built-in chain the first time one of these names it.
   */
  naming(chain: string): ChainState {
    const c = this.need(chain);
    if (c.builtin && this.backend.name === 'nft') this.snap.wantBaseChains.add(c.name);
    return c;
  }

  /** A chain a command needs to exist already (-Z CHAIN): on nf_tables a built-in chain may not, yet. */
  existing(chain: string): ChainState {
    const c = this.need(chain);
    if (c.builtin && this.present && !this.present.has(c.name) && !this.snap.wantBaseChains.has(c.name)) {
      throw new IptcError(`no chain '${chain}' in the nf_tables ${this.table} table yet (iptables-nft makes a built-in chain when a rule, a flush or a policy first names it)`, {
        code: 'ERR_IPTC_NO_CHAIN',
        table: this.table,
        chain,
      });
    }
    return c;
  }

  /** Before any change: the table can be written, and this snapshot was not committed already. */
  mutable(): void {
    if (this.readOnly !== undefined) {
      throw new IptcError(`the ${this.backend.name === 'nft' ? 'nf_tables ' : ''}${this.table} table cannot be changed here: ${this.readOnly}`, {
        code: 'ERR_IPTC_READONLY',
        table: this.table,
      });
    }
    if (this.spent) {
      throw new IptcError('this snapshot was committed; open the table again (or call reload()) to change it further', {
        code: 'ERR_IPTC_SPENT',
        table: this.table,
      });
    }
  }

  checkPosition(c: ChainState, position: number, max: number, what: string): void {
    if (!Number.isInteger(position) || position < 1 || position > max) {
      // A whole position past the last rule names a rule the chain does not have (iptables: "Index of deletion too big").
      const missing = Number.isInteger(position) && position > max && what !== 'insert';
      throw new IptcError(
        `cannot ${what} at position ${position} in chain ${c.name}: positions are 1-based and ${
          max === 0 ? 'the chain is empty' : `must be between 1 and ${max}`
        }`,
        { code: missing ? 'ERR_IPTC_NO_RULE' : 'ERR_IPTC_ARGUMENT', table: this.table, chain: c.name, position: typeof position === 'number' ? position : undefined },
      );
    }
  }

  isTargetName(name: string): boolean {
    return ['ACCEPT', 'DROP', 'QUEUE', 'RETURN'].includes(name) || native.targetExists(this.family, name);
  }
}
