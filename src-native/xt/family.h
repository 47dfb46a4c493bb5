// IPv4 (iptables) and IPv6 (ip6tables) keep their tables in the same form
// with two entry layouts (ipt_entry, ip6t_entry) and two socket levels.
// Family gathers what differs, so the rest of the legacy backend is written
// once and handles entries as bytes.
#pragma once
// libiptc's headers (only the headers: nothing of libiptc is called) bring
// the kernel's ip_tables and ip6_tables structures in an order that does not
// collide with <netinet/in.h>; include this before anything using <net/if.h>.
#include <libiptc/libiptc.h>
extern "C" {
#include <libiptc/libip6tc.h>
}
#include <linux/netfilter.h>
#include <string.h>

#include <string>

namespace iptc {

struct Family {
  const char* name;         // "ipv4" / "ipv6"
  int nfproto;              // NFPROTO_IPV4 / NFPROTO_IPV6
  int af;                   // AF_INET / AF_INET6
  int level;                // IPPROTO_IP / IPPROTO_IPV6, for the sockopts
  unsigned headerSize;      // sizeof(ipt_entry) / sizeof(ip6t_entry)
  unsigned ipSize;          // sizeof(ipt_ip) / sizeof(ip6t_ip6)
  unsigned targetOffsetAt;  // where target_offset, next_offset, comefrom and counters are
  unsigned nextOffsetAt;
  unsigned comefromAt;
  unsigned countersAt;
  unsigned protoAt;         // ip.proto / ipv6.proto (u16)
  unsigned flagsAt;         // ip.flags / ipv6.flags (u8)
  unsigned invflagsAt;      // ip.invflags / ipv6.invflags (u8)
  uint8_t gotoFlag;         // IPT_F_GOTO / IP6T_F_GOTO
  const char* tablesNames;  // /proc/thread-self/net/ip_tables_names, ip6_...
  const char* tool;         // "iptables" / "ip6tables", for messages
  const char* module;       // "ip_tables" / "ip6_tables"

  uint16_t targetOffset(const void* e) const { return u16(e, targetOffsetAt); }
  uint16_t nextOffset(const void* e) const { return u16(e, nextOffsetAt); }
  xt_counters counters(const void* e) const {
    xt_counters c;
    memcpy(&c, static_cast<const char*>(e) + countersAt, sizeof(c));
    return c;
  }
  void setCounters(void* e, const xt_counters& c) const { memcpy(static_cast<char*>(e) + countersAt, &c, sizeof(c)); }
  const xt_entry_target* target(const void* e) const {
    return reinterpret_cast<const xt_entry_target*>(static_cast<const char*>(e) + targetOffset(e));
  }
  bool isGoto(const void* e) const { return (static_cast<const uint8_t*>(e)[flagsAt] & gotoFlag) != 0; }

 private:
  static uint16_t u16(const void* e, unsigned at) {
    uint16_t v;
    memcpy(&v, static_cast<const char*>(e) + at, sizeof(v));
    return v;
  }
};

const Family& FamilyFor(const std::string& name);  // throws std::invalid_argument

// The standard target's verdicts (what libiptc writes for ACCEPT, DROP,
// QUEUE, RETURN); a jump is a non-negative offset.
constexpr int32_t kVerdictAccept = -NF_ACCEPT - 1;
constexpr int32_t kVerdictDrop = -NF_DROP - 1;
constexpr int32_t kVerdictQueue = -NF_QUEUE - 1;
constexpr int32_t kVerdictReturn = XT_RETURN;
const char* VerdictName(int32_t verdict);          // nullptr for other values
bool VerdictOf(const char* name, int32_t* verdict);  // ACCEPT, DROP, QUEUE, RETURN

// The user-chain head (ERROR entry naming the chain) and chain foot (standard
// target) sizes libiptc uses; a jump lands just after the head.
unsigned ErrorEntrySize(const Family& f);
unsigned StandardEntrySize(const Family& f);

extern const char* const kHookNames[NF_INET_NUMHOOKS];

}  // namespace iptc
