// Reading legacy tables: the raw bytes and an index of them, nothing printed.
#pragma once
#include <napi.h>

namespace iptc {

// readTable(family, table, netnsFd, async, create)
//   -> { absent: true }   (a table the kernel has not made, when !create)
//    | { blob: Buffer, numEntries, chains: [name, hook, policy, packets, bytes, footIndex, first, count][],
//        offsets: Uint32Array, entryIndex: Uint32Array, jumps: Int32Array }
Napi::Value ReadTable(const Napi::CallbackInfo& info);

// listTables(family, netnsFd, async) -> the names of the family's tables there
Napi::Value ListTables(const Napi::CallbackInfo& info);

}  // namespace iptc
