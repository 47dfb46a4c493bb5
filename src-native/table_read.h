// Reading: one snapshot of one table (one kernel read through libiptc), the
// list of tables of a family in a namespace.
#pragma once
#include <napi.h>

namespace iptc {

// readTable(family, table, netnsFd, async, create) -> {chains, ip, counters, matchCounts, text, digest}
// or {absent: true} when the table does not exist and create is false (nothing is created then)
Napi::Value ReadTable(const Napi::CallbackInfo& info);
// listTables(family, netnsFd) -> string[] in the kernel's order (iptables-save's order)
Napi::Value ListTables(const Napi::CallbackInfo& info);

}  // namespace iptc
