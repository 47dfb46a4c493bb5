/**
 * The CommonJS entry (`require('iptc-node')`, package.json "exports" →
 * "require"). The library itself is ES modules; this file hands out the very
 * same module namespace through Node's require(esm), so `import` and
 * `require` share one copy: one addon binding, one IptcError class, and
 * `instanceof` holds across both. Its declaration (dist/cjs.d.cts) is the
 * same re-export, so types and values alike reach CommonJS TypeScript.
 *
 * require(esm) is on by default from Node 20.19 and 22.12; on older Node
 * this says what to do instead of failing with ERR_REQUIRE_ESM.
 */
// process.features.require_module: Node 20.19, 22.10 and newer; before that
// only the flag tells.
const requireModule = (process.features as { require_module?: boolean }).require_module ??
  [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes('--experimental-require-module');
if (!requireModule) {
  throw new Error(
    `require('iptc-node') needs Node 20.19, 22.12 or newer (require of ES modules); this is Node ` +
      `${process.versions.node}. Use import or import('iptc-node') instead, or upgrade Node.`,
  );
}
import iptc = require('./index.js');
export = iptc;
