// The facts behind backend 'auto' (see which.cc).
#pragma once
#include <napi.h>

namespace iptc {

// backendFacts(family, netnsFd, async)
//   -> { legacyTables: string[], legacyWithRules: string[], nftTables: string[] }
Napi::Value BackendFacts(const Napi::CallbackInfo& info);

}  // namespace iptc
