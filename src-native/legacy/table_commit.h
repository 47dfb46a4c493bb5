// Committing a legacy table: parse the rules still given as words, take the
// xtables lock, check that the kernel's table is still the one the snapshot
// was read from, build the new table (legacy/build.h), swap it in with one
// SET_REPLACE and put the counters back. No libiptc.
#pragma once
#include <napi.h>

namespace iptc {

// commitTable(family, table, netnsFd, plan, expect, lockPath, lockTimeoutMs, async)
//   plan: see xt/plan.h. Its chains' oldFoot -2 means "the policy the kernel
//   has for this hook at commit time, with its counters kept".
//   expect: { base: Buffer }  the kernel's table must still equal these bytes
//                             (counters aside), else ERR_IPTC_CONFLICT
//         | { base, locked: true, entries }  read under the xtables lock the
//                             caller still holds: only size and entry count
//                             are checked (no second read)
//         | { absent: true }  it must be as the kernel first makes it
//         | {}                anything (a whole-table replace, as restore does)
//   lockPath '' when the caller holds the xtables lock already.
// A rule that does not parse fails with ERR_IPTC_PARSE and `index` = its
// place among the pending rules; a plan libiptc would refuse with
// ERR_IPTC_ARGUMENT and `index` = the rule; what the kernel refuses with its
// errno and syscall 'setsockopt'.
Napi::Value CommitTable(const Napi::CallbackInfo& info);

}  // namespace iptc
