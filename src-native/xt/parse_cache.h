// Parses remembered: a controller re-applies mostly the same rules on every
// sync, and a rule whose parse depends on nothing but its words (no host
// names to resolve, no ipset, bpf object, user or group, no file read) gives
// the same kernel entry every time. Keyed by family, table, whether the jump
// names a chain, and the words. Used under the process-wide lock only.
#pragma once
#include <stdint.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "xt/family.h"

namespace iptc {

struct CachedParse {
  std::vector<char> bytes;  // the entries, back to back
  std::vector<uint32_t> sizes;
  std::string warnings;
};

class ParseCache {
 public:
  static ParseCache& Get();

  // The key of a rule whose parse is pure; false when it is not (then it is
  // parsed every time). `words` are the rule's words (argv without argv[0]).
  static bool KeyOf(const Family& fam, const std::string& table, char* const* words, size_t n, bool jumpIsChain,
                    std::string& key);

  const CachedParse* Find(const std::string& key) const;
  void Put(std::string key, CachedParse parse);

 private:
  std::unordered_map<std::string, CachedParse> map_;
  size_t bytes_ = 0;
};

}  // namespace iptc
