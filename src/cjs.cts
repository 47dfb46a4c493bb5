/**
 * The CommonJS entry (`require('iptc-node')`, package.json "exports" →
 * "require"). The library itself is ES modules; this file hands out the very
 * same module namespace through Node's require(esm), so `import` and
 * `require` share one copy: one addon binding, one IptcError class, and
 * `instanceof` holds across both.
 *
 * require(esm) is on by default from Node 20.19 and 22.12; older Node throws
 * ERR_REQUIRE_ESM, which is turned here into a message that says what to do.
 */
let iptc: typeof import('./index.js');
try {
  iptc = require('./index.js');
} catch (e) {
  if ((e as NodeJS.ErrnoException)?.code === 'ERR_REQUIRE_ESM') {
    throw new Error(
      `require('iptc-node') needs Node 20.19, 22.12 or newer (require of ES modules); ` +
        `this is Node ${process.versions.node}. Use import / import('iptc-node') instead, or upgrade Node.`,
      { cause: e },
    );
  }
  throw e;
}
export = iptc;
