#include "xt/parse_cache.h"

#include <string.h>

#include <algorithm>
#include <functional>

namespace iptc {

namespace {

// Extensions whose parse reads nothing but its own words (iptables 1.8.9),
// sorted (strcmp order) for a binary search. Left out: set and SET (ipset's
// kernel index), bpf (pinned objects), owner (users and groups), devgroup,
// realm, connlabel (files), policy, ipvs and TEE (host names), and anything
// not named here.
const char* const kPureMatches[] = {
    "addrtype", "ah",       "cgroup",  "cluster",   "comment",   "connbytes", "connlimit", "connmark", "conntrack",
    "cpu",      "dccp",     "dscp",    "dst",       "ecn",       "esp",       "eui64",     "frag",     "hashlimit",
    "hbh",      "helper",   "hl",      "icmp",      "icmp6",     "ipcomp",    "iprange",   "ipv6header", "length",
    "limit",    "mac",      "mark",    "mh",        "multiport", "nfacct",    "osf",       "physdev",  "pkttype",
    "quota",    "rateest",  "recent",  "rpfilter",  "rt",        "sctp",      "socket",    "state",    "statistic",
    "string",   "tcp",      "tcpmss",  "time",      "tos",       "ttl",       "u32",       "udp",      "udplite"};

const char* const kPureTargets[] = {
    "ACCEPT",    "AUDIT",   "CHECKSUM", "CLASSIFY", "CONNMARK", "CONNSECMARK", "CT",     "DNAT",     "DROP",
    "DSCP",      "ECN",     "HL",       "HMARK",    "IDLETIMER", "LED",        "LOG",    "MARK",     "MASQUERADE",
    "NETMAP",    "NFLOG",   "NFQUEUE",  "NOTRACK",  "QUEUE",    "RATEEST",     "REDIRECT", "REJECT", "RETURN",
    "SECMARK",   "SNAT",    "SYNPROXY", "TCPMSS",   "TCPOPTSTRIP", "TOS",      "TPROXY", "TRACE",    "TTL"};

template <size_t N>
bool In(const char* const (&list)[N], const char* name) {
  return std::binary_search(list, list + N, name, [](const char* a, const char* b) { return strcmp(a, b) < 0; });
}

// A literal address or network: digits, dots, hex and colons, and a length
// or mask after a slash; no name to resolve, no list.
bool Literal(const char* s) {
  if (!*s) return false;
  for (; *s; s++) {
    char c = *s;
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':' || c == '/'))
      return false;
  }
  return true;
}

bool Is(const char* w, const char* a) { return strcmp(w, a) == 0; }

}  // namespace

ParseCache& ParseCache::Get() {
  static ParseCache cache;
  return cache;
}

bool ParseCache::KeyOf(const Family& fam, const std::string& table, char* const* words, size_t n, bool jumpIsChain,
                       std::string& key, uint64_t& hash) {
  for (size_t i = 0; i < n; i++) {
    const char* w = words[i];
    if (w[0] != '-') continue;
    const char* next = i + 1 < n ? words[i + 1] : "";
    if (Is(w, "-m") || Is(w, "--match")) {
      if (!In(kPureMatches, next)) return false;
    } else if (Is(w, "-j") || Is(w, "--jump")) {
      if (!jumpIsChain && !In(kPureTargets, next)) return false;
    } else if (Is(w, "-s") || Is(w, "-d") || Is(w, "--source") || Is(w, "--src") || Is(w, "--destination") ||
               Is(w, "--dst") || strncmp(w, "--ctorig", 8) == 0 || strncmp(w, "--ctrepl", 8) == 0) {
      if (!Literal(next)) return false;
    } else if (w[1] != '-' && w[1] && w[2] && strchr("mjsdg", w[1])) {
      return false;  // -mtcp, -s10.0.0.1: spellings this check does not follow
    } else if (w[1] == '-' && strchr(w, '=')) {
      return false;  // --opt=value, likewise
    }
  }
  key.clear();
  size_t size = table.size() + 3;
  for (size_t i = 0; i < n; i++) size += strlen(words[i]) + 1;
  key.reserve(size);
  key += static_cast<char>(fam.nfproto);
  key += table;
  key += '\0';
  key += jumpIsChain ? '1' : '0';
  for (size_t i = 0; i < n; i++) {
    key += '\0';
    key += words[i];
  }
  hash = std::hash<std::string>()(key);
  return true;
}

bool ParseCache::Find(const std::string& key, uint64_t hash, Hit& hit) const {
  auto it = map_.find(hash);
  if (it == map_.end()) return false;
  const Slot& s = it->second;
  if (s.keySize != key.size() || memcmp(keys_.data() + s.key, key.data(), key.size()) != 0) return false;
  hit = Hit{arena_.data() + s.at, sizes_.data() + s.first, s.count, &warnings_[s.warnings]};
  return true;
}

bool ParseCache::Again(uint64_t hash) {
  static constexpr size_t kSlots = 1u << 16;
  if (seen_.empty()) seen_.resize(kSlots);
  uint64_t h = hash | 1;  // 0 marks an empty slot
  uint64_t& slot = seen_[(h >> 7) & (kSlots - 1)];
  if (slot == h) return true;
  slot = h;
  return false;
}

void ParseCache::Put(const std::string& key, uint64_t hash, const char* bytes, const uint32_t* sizes, uint32_t count,
                     const std::string& warnings) {
  // Bounded: past 256 MiB of entries, start over.
  if (arena_.size() > (256u << 20)) {
    map_.clear();
    keys_.clear();
    arena_.clear();
    sizes_.clear();
    warnings_.resize(1);
  }
  if (map_.empty()) map_.reserve(1 << 16);
  Slot s{keys_.size(), static_cast<uint32_t>(key.size()), arena_.size(), static_cast<uint32_t>(sizes_.size()), count, 0};
  keys_ += key;
  size_t total = 0;
  for (uint32_t i = 0; i < count; i++) total += sizes[i];
  arena_.insert(arena_.end(), bytes, bytes + total);
  sizes_.insert(sizes_.end(), sizes, sizes + count);
  if (!warnings.empty()) {
    s.warnings = static_cast<uint32_t>(warnings_.size());
    warnings_.push_back(warnings);
  }
  map_[hash] = s;  // a colliding key takes the slot
}

}  // namespace iptc
