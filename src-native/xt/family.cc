#include "xt/family.h"

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

#include <stdexcept>

namespace iptc {

const char* const kHookNames[NF_INET_NUMHOOKS] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};

static const Family kIpv4 = {
    "ipv4", NFPROTO_IPV4, AF_INET, IPPROTO_IP, sizeof(ipt_entry), sizeof(ipt_ip),
    offsetof(ipt_entry, target_offset), offsetof(ipt_entry, next_offset), offsetof(ipt_entry, comefrom),
    offsetof(ipt_entry, counters), offsetof(ipt_entry, ip) + offsetof(ipt_ip, proto),
    offsetof(ipt_entry, ip) + offsetof(ipt_ip, flags), offsetof(ipt_entry, ip) + offsetof(ipt_ip, invflags),
    IPT_F_GOTO, "/proc/thread-self/net/ip_tables_names", "iptables", "ip_tables",
};

static const Family kIpv6 = {
    "ipv6", NFPROTO_IPV6, AF_INET6, IPPROTO_IPV6, sizeof(ip6t_entry), sizeof(ip6t_ip6),
    offsetof(ip6t_entry, target_offset), offsetof(ip6t_entry, next_offset), offsetof(ip6t_entry, comefrom),
    offsetof(ip6t_entry, counters), offsetof(ip6t_entry, ipv6) + offsetof(ip6t_ip6, proto),
    offsetof(ip6t_entry, ipv6) + offsetof(ip6t_ip6, flags), offsetof(ip6t_entry, ipv6) + offsetof(ip6t_ip6, invflags),
    IP6T_F_GOTO, "/proc/thread-self/net/ip6_tables_names", "ip6tables", "ip6_tables",
};

const Family& FamilyFor(const std::string& name) {
  if (name == "ipv4") return kIpv4;
  if (name == "ipv6") return kIpv6;
  throw std::invalid_argument("family must be 'ipv4' or 'ipv6'");
}

const char* VerdictName(int32_t v) {
  switch (v) {
    case kVerdictAccept: return "ACCEPT";
    case kVerdictDrop: return "DROP";
    case kVerdictQueue: return "QUEUE";
    case kVerdictReturn: return "RETURN";
  }
  return nullptr;
}

bool VerdictOf(const char* name, int32_t* v) {
  // Called per rule wherever a table is built: most names are "" (the
  // standard target) or an extension's, which the first letter rules out.
  if (name[0] != 'A' && name[0] != 'D' && name[0] != 'Q' && name[0] != 'R') return false;
  static const struct {
    const char* name;
    int32_t verdict;
  } kAll[] = {{"ACCEPT", kVerdictAccept}, {"DROP", kVerdictDrop}, {"QUEUE", kVerdictQueue}, {"RETURN", kVerdictReturn}};
  for (const auto& x : kAll) {
    if (strcmp(name, x.name) == 0) {
      *v = x.verdict;
      return true;
    }
  }
  return false;
}

unsigned ErrorEntrySize(const Family& f) { return f.headerSize + XT_ALIGN(sizeof(xt_error_target)); }
unsigned StandardEntrySize(const Family& f) { return f.headerSize + XT_ALIGN(sizeof(xt_standard_target)); }

}  // namespace iptc
