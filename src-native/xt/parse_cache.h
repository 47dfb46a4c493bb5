// Parses remembered: a controller re-applies mostly the same rules on every
// sync, and a rule whose parse depends on nothing but its words (no host
// names to resolve, no ipset, bpf object, user or group, no file read) gives
// the same kernel entry every time. Keyed by family, table, whether the jump
// names a chain, and the words. A rule is remembered the second time it is
// parsed (a first, one-off parse costs only a hash), its entries kept in one
// growing arena. Used under the process-wide lock only.
#pragma once
#include <stdint.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "xt/family.h"

namespace iptc {

class ParseCache {
 public:
  struct Hit {
    const char* bytes;  // the entries, back to back (valid until the next Put)
    const uint32_t* sizes;
    uint32_t count;
    const std::string* warnings;
  };

  static ParseCache& Get();

  // The key of a rule whose parse is pure; false when it is not (then it is
  // parsed every time). `words` are the rule's words (argv without argv[0]).
  // `hash` is the key's, computed once for Find, Again and Put.
  static bool KeyOf(const Family& fam, const std::string& table, char* const* words, size_t n, bool jumpIsChain,
                    std::string& key, uint64_t& hash);

  bool Find(const std::string& key, uint64_t hash, Hit& hit) const;
  // Whether a parse with this key is worth remembering: it was seen before.
  bool Again(uint64_t hash);
  void Put(const std::string& key, uint64_t hash, const char* bytes, const uint32_t* sizes, uint32_t count,
           const std::string& warnings);

 private:
  struct Slot {
    size_t key;        // in keys_
    uint32_t keySize;
    size_t at;         // in arena_
    uint32_t first;    // in sizes_
    uint32_t count;
    uint32_t warnings;  // in warnings_ (0: none)
  };
  std::unordered_map<uint64_t, Slot> map_;  // by the key's hash (the key itself in keys_)
  std::string keys_;
  // Hashes of keys seen once, direct-mapped (a newer key takes the slot):
  // a fixed 512 KiB, no allocation per rule, and a one-off key is forgotten
  // in time instead of being kept for ever.
  std::vector<uint64_t> seen_;
  std::vector<char> arena_;
  std::vector<uint32_t> sizes_;
  std::vector<std::string> warnings_{std::string()};
};

}  // namespace iptc
