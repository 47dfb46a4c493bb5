// Committing: replay a snapshot's changes onto a fresh libiptc handle and
// replace the table in one kernel call, under the xtables lock, refusing
// when the table changed since the snapshot was read.
#pragma once
#include <napi.h>

namespace iptc {

// commitTable(family, table, netnsFd, expectedDigest|'', ops[], lockPath, lockTimeoutMs, async)
// ops: [code, chain, a, b] tuples (see OpCode in table_commit.cc and src/native.ts)
Napi::Value CommitTable(const Napi::CallbackInfo& info);

}  // namespace iptc
