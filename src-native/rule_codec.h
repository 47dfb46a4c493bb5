// Rules in: iptables rule-spec words -> kernel entries, through libxtables'
// own option parsing (xt_glue.c); and entries -> what iptables-save prints.
#pragma once
#include <napi.h>

namespace iptc {

// encodeRule(family, table, words[], jumpIsChain) ->
//   {entries: Buffer (one entry per -s/-d address pair, back to back), count,
//    verdict?: the verdict or chain name when the target is no extension, warnings?}
Napi::Value EncodeRule(const Napi::CallbackInfo& info);

// describeEntries(family, entries: Buffer, verdicts: (string|null)[] one per entry)
//   -> {ip, counters, matchCounts, targetKinds, text} (see rules_out.h)
Napi::Value DescribeEntries(const Napi::CallbackInfo& info);

}  // namespace iptc
