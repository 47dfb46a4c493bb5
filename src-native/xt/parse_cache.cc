#include "xt/parse_cache.h"

#include <string.h>

#include <unordered_set>

namespace iptc {

namespace {

// Extensions whose parse reads nothing but its own words (iptables 1.8.9).
// Left out: set and SET (ipset's kernel index), bpf (pinned objects),
// owner (users and groups), devgroup, realm, connlabel (files), policy,
// ipvs and TEE (host names), and anything not named here.
const std::unordered_set<std::string>& PureMatches() {
  static const std::unordered_set<std::string> m = {
      "tcp",      "udp",       "udplite",  "icmp",     "icmp6",   "comment", "multiport", "limit",    "mark",
      "connmark", "state",     "conntrack", "iprange", "mac",     "pkttype", "length",    "tos",      "dscp",
      "ttl",      "hl",        "frag",     "hbh",      "dst",     "rt",      "ipv6header", "mh",      "ah",
      "esp",      "sctp",      "dccp",     "addrtype", "helper",  "physdev", "statistic", "time",     "string",
      "hashlimit", "recent",   "quota",    "connbytes", "connlimit", "tcpmss", "u32",      "socket",   "cpu",
      "nfacct",   "rpfilter",  "cluster",  "ecn",      "rateest", "osf",     "cgroup",    "ipcomp",   "eui64"};
  return m;
}

const std::unordered_set<std::string>& PureTargets() {
  static const std::unordered_set<std::string> t = {
      "ACCEPT",   "DROP",    "QUEUE",    "RETURN",    "LOG",     "NFLOG",   "REJECT",   "DNAT",    "SNAT",
      "MASQUERADE", "REDIRECT", "NETMAP", "MARK",     "CONNMARK", "TOS",     "DSCP",     "TTL",     "HL",
      "TCPMSS",   "CLASSIFY", "CHECKSUM", "ECN",      "NOTRACK", "CT",      "TRACE",    "NFQUEUE", "AUDIT",
      "SECMARK",  "CONNSECMARK", "IDLETIMER", "LED",  "RATEEST", "HMARK",   "TPROXY",   "TCPOPTSTRIP", "SYNPROXY"};
  return t;
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
                       std::string& key) {
  for (size_t i = 0; i < n; i++) {
    const char* w = words[i];
    if (w[0] != '-') continue;
    const char* next = i + 1 < n ? words[i + 1] : "";
    if (Is(w, "-m") || Is(w, "--match")) {
      if (!PureMatches().count(next)) return false;
    } else if (Is(w, "-j") || Is(w, "--jump")) {
      if (!jumpIsChain && !PureTargets().count(next)) return false;
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
  key += static_cast<char>(fam.nfproto);
  key += table;
  key += '\0';
  key += jumpIsChain ? '1' : '0';
  for (size_t i = 0; i < n; i++) {
    key += '\0';
    key += words[i];
  }
  return true;
}

bool ParseCache::Find(const std::string& key, Hit& hit) const {
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  const Slot& s = it->second;
  hit = Hit{arena_.data() + s.at, sizes_.data() + s.first, s.count, &warnings_[s.warnings]};
  return true;
}

bool ParseCache::Again(const std::string& key) {
  uint64_t h = std::hash<std::string>()(key);
  if (seen_.size() > (1u << 22)) seen_.clear();
  return !seen_.insert(h).second;
}

void ParseCache::Put(const std::string& key, const char* bytes, const std::vector<uint32_t>& sizes,
                     const std::string& warnings) {
  // Bounded: past 256 MiB of entries, start over.
  if (arena_.size() > (256u << 20)) {
    map_.clear();
    arena_.clear();
    sizes_.clear();
    warnings_.resize(1);
  }
  if (map_.empty()) map_.reserve(1 << 16);
  Slot s{arena_.size(), static_cast<uint32_t>(sizes_.size()), static_cast<uint32_t>(sizes.size()), 0};
  size_t total = 0;
  for (uint32_t z : sizes) total += z;
  arena_.insert(arena_.end(), bytes, bytes + total);
  sizes_.insert(sizes_.end(), sizes.begin(), sizes.end());
  if (!warnings.empty()) {
    s.warnings = static_cast<uint32_t>(warnings_.size());
    warnings_.push_back(warnings);
  }
  map_.emplace(key, s);
}

}  // namespace iptc
