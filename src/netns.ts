/**
 * Network namespaces, held as open file descriptors. Creating one spawns
 * nothing: a throw-away native thread unshares and hands back its namespace.
 * Every table operation takes `{ netns }` and runs inside it on a native
 * thread; the JavaScript thread never changes namespace.
 */
import { IptcError, argumentError, show } from './errors.js';
import { native } from './native.js';

/**
 * A network namespace held open by its file descriptor; pass it as `{ netns }`.
 * @example
 * ```ts
 * import { Netns, Table } from 'iptc-node';
 * using ns = Netns.create(); // closed at the end of the scope
 * const t = await Table.open('filter', { netns: ns });
 * ```
 */
export class Netns {
  #fd: number;
  readonly #label: string;

  private constructor(fd: number, label: string) {
    this.#fd = fd;
    this.#label = label;
  }

  /**
   * A new, empty network namespace (only a downed `lo`, no tables yet). Needs CAP_SYS_ADMIN.
   * @example
   * ```ts
   * import { Netns, Table } from 'iptc-node';
   * const ns = Netns.create();
   * try { await Table.update('filter', { netns: ns }, (t) => t.setPolicy('INPUT', 'DROP')); } finally { ns.close(); }
   * ```
   */
  static create(): Netns {
    const fd = native.netnsCreate();
    return new Netns(fd, 'new namespace');
  }

  /**
   * Opens an existing namespace: an `ip netns` name (resolved under /run/netns)
   * or a path such as `/run/netns/NAME` or `/proc/PID/ns/net`.
   * @example
   * ```ts
   * import { Netns } from 'iptc-node';
   * const ns = Netns.open('edge'); // or Netns.open('/proc/1234/ns/net')
   * ```
   */
  static open(nameOrPath: string): Netns {
    if (typeof nameOrPath !== 'string' || nameOrPath === '' || nameOrPath.includes('\0')) {
      throw argumentError(`netns must be an ip-netns name or a path, got ${show(nameOrPath)}`);
    }
    const path = nameOrPath.includes('/') ? nameOrPath : `/run/netns/${nameOrPath}`;
    return new Netns(native.netnsOpen(path), path);
  }

  /**
   * Where other processes can enter this namespace (e.g. `nsenter --net=PATH`) while it is open.
   * @example
   * ```ts
   * import { Netns } from 'iptc-node';
   * console.log(`nsenter --net=${Netns.create().path} ip link`);
   * ```
   */
  get path(): string {
    return `/proc/${process.pid}/fd/${this.fd}`;
  }

  /**
   * True once close() has released it.
   * @example
   * ```ts
   * import { Netns } from 'iptc-node';
   * const ns = Netns.create();
   * ns.close();
   * console.log(ns.closed); // true
   * ```
   */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * The file descriptor; throws once closed.
   * @example
   * ```ts
   * import { Netns } from 'iptc-node';
   * const fd: number = Netns.open('edge').fd;
   * ```
   */
  get fd(): number {
    if (this.#fd < 0) {
      throw new IptcError(`network namespace (${this.#label}) is closed`, { code: 'ERR_IPTC_NETNS' });
    }
    return this.#fd;
  }

  /**
   * The namespace's inode number: equal for two handles on the same namespace.
   * @example
   * ```ts
   * import { Netns } from 'iptc-node';
   * const same = Netns.open('edge').inode === Netns.open('/run/netns/edge').inode; // true
   * ```
   */
  get inode(): bigint {
    return native.netnsInode(this.fd);
  }

  /**
   * Releases the descriptor. A namespace made by create() disappears with its last user.
   * @example
   * ```ts
   * import { Netns } from 'iptc-node';
   * const ns = Netns.open('edge');
   * try { console.log(ns.inode); } finally { ns.close(); }
   * ```
   */
  close(): void {
    if (this.#fd >= 0) native.netnsClose(this.#fd);
    this.#fd = -1;
  }

  /**
   * close(), for `using` (TypeScript's lib esnext.disposable).
   * @example
   * ```ts
   * import { Netns, Table } from 'iptc-node';
   * using ns = Netns.create();
   * await Table.open('filter', { netns: ns });
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * A label for messages: `Netns(new namespace)`, `Netns(/run/netns/edge)`.
   * @example
   * ```ts
   * import { Netns } from 'iptc-node';
   * console.log(String(Netns.open('edge'))); // Netns(/run/netns/edge)
   * ```
   */
  toString(): string {
    return `Netns(${this.#label})`;
  }
}

export type NetnsOption = Netns | string | undefined;

/**
 * Runs `fn` with a namespace fd for `netns` (-1 for the caller's own), opening
 * names and paths for the duration of the call only.
 * @internal
 */
export function withNetnsFd<T>(netns: NetnsOption, fn: (fd: number) => T): T {
  if (netns === undefined) return fn(-1);
  if (netns instanceof Netns) return fn(netns.fd);
  const ns = Netns.open(netns);
  let result: T;
  try {
    result = fn(ns.fd);
  } catch (e) {
    ns.close();
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => ns.close()) as T;
  }
  ns.close();
  return result;
}

/**
 * Runs async work that makes more than one native call on a namespace fd:
 * each call dups the fd it is given when it is made, but a caller may close
 * its Netns between two of them (and the number then names another one), so
 * the work gets its own hold on the namespace for its whole length.
 * @internal
 */
export async function withHeldNetnsFd<T>(fd: number, fn: (fd: number) => Promise<T>): Promise<T> {
  if (fd < 0) return fn(fd);
  const held = native.netnsOpen(`/proc/self/fd/${fd}`);
  try {
    return await fn(held);
  } finally {
    native.netnsClose(held);
  }
}
