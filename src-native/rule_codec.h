// Rules in: iptables rule-spec words -> kernel entries, through libxtables'
// own option parsing (xt_glue.c), plus the decoded form of what came out so
// JavaScript sees exactly what the kernel will hold.
#pragma once
#include <napi.h>

namespace iptc {

// parseRule(family, table, words[], jumpIsChain) ->
//   {entries: Buffer[], ip, counters, matchCounts, text, warnings}
Napi::Value ParseRule(const Napi::CallbackInfo& info);

}  // namespace iptc
