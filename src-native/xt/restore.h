// iptables-restore input, read the way iptables-restore reads it (framing,
// `:CHAIN POLICY [p:b]` lines, `[p:b]` rule counters, words split as its
// add_param_to_argv splits them), with every `-A` line's rule parsed by
// libxtables, all in one call that can run on a worker thread. What the
// lines do to a table is left to JavaScript (src/restore.ts): this only
// turns text into operations.
#pragma once
#include <napi.h>

namespace iptc {

// compileRestore(family, text | Buffer[] (UTF-8 pieces), { counters, noflush, table }, async) ->
//   { blocks: [table, line, firstOp, opCount][],
//     names: string[],          chain names, policies, and commands' words (NUL-joined)
//     ops: Uint32Array,         8 per op: kind, line, chain, jump, first, count, arg, hasCounters
//     counters: BigUint64Array, 2 per op
//     bytes: Buffer, offsets: Uint32Array }  the parsed entries of every -A line
// kind 1 `:CHAIN POLICY`: chain = name, arg = policy name;
// kind 2 `-A CHAIN rule`: chain, jump (name of the chain it jumps or goes
//   to, or -1), first/count its entries; consecutive -A lines with one
//   chain and jump and no counters are one op (line: the first's);
// kind 3 any other command: arg = its words.
// A bad line ends the input: `error` (ERR_IPTC_PARSE with `line`) comes with
// the blocks complete before it.
Napi::Value CompileRestore(const Napi::CallbackInfo& info);

}  // namespace iptc
