// Rules in: iptables words parsed by libxtables into kernel entries
// (ipt_entry / ip6t_entry with their matches and target), many rules at a
// time, so that a batch crosses from JavaScript once and can be parsed on a
// worker thread.
#pragma once
#include <napi.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "common/errors.h"
#include "xt/family.h"

namespace iptc {

// The words of several rules (what follows `-A CHAIN`): all words, each
// followed by a NUL byte (the last one's may be missing), how many words
// each rule has, and whether the word after -j/-g names a user chain (then
// it is a jump, never an extension target). The words are JavaScript's
// Buffer (kept alive by whoever read the batch) or `own`.
struct RuleBatch {
  std::string own;
  const char* words = nullptr;
  size_t size = 0;
  std::vector<uint32_t> counts;
  std::vector<uint8_t> chainJumps;
  std::vector<uint64_t> counters;  // optional: packets, bytes per rule, set on its entries
};

struct ParsedRules {
  std::vector<char> bytes;          // every entry, back to back
  std::vector<uint32_t> offsets;    // per entry
  std::vector<uint32_t> perRule;    // entries per rule (several when -s/-d list several addresses)
  std::vector<std::string> warnings;  // per rule: what extensions printed on stderr
};

// Parses every rule of the batch for `table` (some checks depend on it).
// On the first bad rule fails with ERR_IPTC_PARSE and failure.index = its
// position in the batch. Takes the process-wide lock itself.
bool ParseBatch(const Family& fam, const std::string& table, const RuleBatch& batch, ParsedRules& out,
                Failure& failure);

// Parses one rule into `out` (appending its entries), the process-wide lock
// already held. On failure sets ERR_IPTC_PARSE and returns false.
bool ParseOneLocked(const Family& fam, const std::string& table, std::vector<char*>& argv, bool jumpIsChain,
                    ParsedRules& out, Failure& failure);

// Reads a batch from JavaScript: (words: string | Buffer, counts: Uint32Array,
// chainJumps: Uint8Array). A Buffer is not copied: keep it referenced.
void ReadBatch(Napi::Value words, Napi::Value counts, Napi::Value chainJumps, RuleBatch& batch);

// parseRules(family, table, words, counts, chainJumps)
//   -> { bytes: Buffer, offsets: Uint32Array, perRule: Uint32Array, warnings: string[] }
// On the calling thread (a few rules at a time; big batches go to commits).
Napi::Value ParseRules(const Napi::CallbackInfo& info);

// targetExists(family, name) -> whether an extension target of that name is installed
Napi::Value TargetExists(const Napi::CallbackInfo& info);

}  // namespace iptc
