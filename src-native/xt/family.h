// libip4tc and libip6tc have the same API under two prefixes and two entry
// layouts. Family gathers one set of entry points so the rest of the addon
// is written once. Entries are passed as bytes (const void*).
#pragma once
// libiptc before anything that includes <net/if.h> (the two if.h collide).
#include <libiptc/libiptc.h>
extern "C" {
#include <libiptc/libip6tc.h>
}
#include <linux/netfilter.h>

#include <string>

namespace iptc {

struct Family {
  const char* name;  // "ipv4" / "ipv6"
  int nfproto;
  unsigned headerSize;  // sizeof(ipt_entry) / sizeof(ip6t_entry)
  unsigned ipSize;      // sizeof(ipt_ip) / sizeof(ip6t_ip6)
  const char* tablesNames;  // /proc/thread-self/net/ip_tables_names
  xtc_handle* (*init)(const char*);
  void (*free)(xtc_handle*);
  const char* (*firstChain)(xtc_handle*);
  const char* (*nextChain)(xtc_handle*);
  const void* (*firstRule)(const char*, xtc_handle*);
  const void* (*nextRule)(const void*, xtc_handle*);
  const char* (*getTarget)(const void*, xtc_handle*);
  int (*builtin)(const char*, xtc_handle*);
  int (*isChain)(const char*, xtc_handle*);
  const char* (*getPolicy)(const char*, xt_counters*, xtc_handle*);
  int (*getReferences)(unsigned*, const char*, xtc_handle*);
  int (*insert)(const char*, const void*, unsigned, xtc_handle*);
  int (*replace)(const char*, const void*, unsigned, xtc_handle*);
  int (*append)(const char*, const void*, xtc_handle*);
  int (*deleteNum)(const char*, unsigned, xtc_handle*);
  int (*flush)(const char*, xtc_handle*);
  int (*zeroEntries)(const char*, xtc_handle*);
  int (*createChain)(const char*, xtc_handle*);
  int (*deleteChain)(const char*, xtc_handle*);
  int (*renameChain)(const char*, const char*, xtc_handle*);
  int (*setPolicy)(const char*, const char*, xt_counters*, xtc_handle*);
  int (*zeroCounter)(const char*, unsigned, xtc_handle*);
  int (*setCounter)(const char*, unsigned, xt_counters*, xtc_handle*);
  int (*commit)(xtc_handle*);
  const char* (*strerror)(int);
  // Parts of an entry.
  uint16_t (*targetOffset)(const void*);
  uint16_t (*nextOffset)(const void*);
  xt_counters (*counters)(const void*);
};

const Family& FamilyFor(const std::string& name);  // throws std::invalid_argument

// libiptc reads chain names as 32-byte labels: always pass a zeroed copy.
struct Label {
  xt_chainlabel buf{};
  explicit Label(const std::string& s);
  operator const char*() const { return buf; }
};

}  // namespace iptc
