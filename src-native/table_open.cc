#include "table_open.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules_out.h"

namespace iptc {

xtc_handle* OpenHandle(const Family& fam, const std::string& table, Failure& failure) {
  errno = 0;
  xtc_handle* h = fam.init(table.c_str());
  if (h) return h;
  int e = errno;
  std::string what = std::string(fam.nfproto == NFPROTO_IPV4 ? "iptables" : "ip6tables") +
                     " table '" + table + "'";
  std::string hint;
  if (e == EPERM || e == EACCES)
    hint = " (needs CAP_NET_ADMIN in the network namespace: run as root)";
  else if (e == ENOENT || e == EINVAL)
    hint = std::string(" (no such table, or its kernel module is not loaded: ") +
           (fam.nfproto == NFPROTO_IPV4 ? "iptable_" : "ip6table_") + table +
           "; iptc-node never runs modprobe)";
  else if (e == EAFNOSUPPORT || e == ENOPROTOOPT)
    hint = std::string(" (the kernel has no legacy xtables support for ") + fam.name +
           ": load " + (fam.nfproto == NFPROTO_IPV4 ? "ip_tables" : "ip6_tables") + ")";
  failure.fromErrno(e ? e : EIO, fam.nfproto == NFPROTO_IPV4 ? "iptc_init" : "ip6tc_init",
                    "cannot read " + what + ": " + fam.strerror(e) + hint);
  return nullptr;
}

int TableExists(const Family& fam, const std::string& table) {
  FILE* f = fopen(fam.tablesNames, "re");
  if (!f) return -1;
  char line[64];
  int found = 0;
  while (!found && fgets(line, sizeof(line), f)) {
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n') line[--n] = '\0';
    found = table == line;
  }
  fclose(f);
  return found;
}

std::string NoLegacyMessage(const Family& fam) {
  bool v4 = fam.nfproto == NFPROTO_IPV4;
  return std::string("this kernel has no legacy ") + (v4 ? "iptables" : "ip6tables") + " here: the " +
         (v4 ? "ip_tables" : "ip6_tables") +
         " module is not loaded (iptc-node never runs modprobe). Load it (modprobe " + (v4 ? "ip_tables" : "ip6_tables") +
         ") or, on an nftables-only kernel, use iptables-nft";
}

bool IsPristine(const Family& fam, xtc_handle* h) {
  for (const char* c = fam.firstChain(h); c; c = fam.nextChain(h)) {
    if (!fam.builtin(c, h) || fam.firstRule(c, h)) return false;
    xt_counters k;
    const char* pol = fam.getPolicy(c, &k, h);
    if (!pol || strcmp(pol, "ACCEPT") != 0) return false;
  }
  return true;
}

uint64_t DigestHandle(const Family& fam, xtc_handle* h) {
  uint64_t d = 0xcbf29ce484222325ULL;
  for (const char* c = fam.firstChain(h); c; c = fam.nextChain(h)) {
    d = DigestBytes(c, strlen(c) + 1, d);
    if (fam.builtin(c, h)) {
      xt_counters k;
      const char* pol = fam.getPolicy(c, &k, h);
      if (pol) d = DigestBytes(pol, strlen(pol) + 1, d);
    }
    for (const void* e = fam.firstRule(c, h); e; e = fam.nextRule(e, h)) d = DigestEntry(fam, e, d);
  }
  return d;
}

}  // namespace iptc
