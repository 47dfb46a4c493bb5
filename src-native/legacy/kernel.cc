#include "legacy/kernel.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace iptc {

namespace {

// ipt_getinfo / ip6t_getinfo, ipt_get_entries / ip6t_get_entries,
// ipt_replace / ip6t_replace and xt_counters_info have one layout for both
// families (only the entries differ); the option numbers are equal too.
static_assert(sizeof(ipt_getinfo) == sizeof(ip6t_getinfo), "getinfo layouts differ");
static_assert(offsetof(ipt_get_entries, entrytable) == offsetof(ip6t_get_entries, entrytable), "get_entries heads differ");
static_assert(offsetof(ipt_replace, entries) == offsetof(ip6t_replace, entries), "replace heads differ");
static_assert(IPT_SO_GET_INFO == IP6T_SO_GET_INFO && IPT_SO_GET_ENTRIES == IP6T_SO_GET_ENTRIES, "");
static_assert(IPT_SO_SET_REPLACE == IP6T_SO_SET_REPLACE && IPT_SO_SET_ADD_COUNTERS == IP6T_SO_SET_ADD_COUNTERS, "");

constexpr size_t kReplaceHead = offsetof(ipt_replace, entries);

}  // namespace

const size_t KernelTable::kEntriesAt = offsetof(ipt_get_entries, entrytable);
const size_t NewTable::kHead = kReplaceHead;

KernelTable::~KernelTable() {
  if (fd_ >= 0) close(fd_);
}

std::string KernelTable::Why(int e) const {
  std::string why = strerror(e);
  if (e == EPERM || e == EACCES) return why + " (needs CAP_NET_ADMIN in the network namespace: run as root)";
  if (e == EAFNOSUPPORT || e == ENOPROTOOPT)
    return why + " (the kernel has no legacy xtables support for " + fam_.name + ": load " + fam_.module + ")";
  return why;
}

std::string KernelTable::Describe(int e) const {
  std::string what = std::string(fam_.tool) + " table '" + table_ + "': ";
  if (e == ENOENT)
    return what + strerror(e) + " (no such table, or its kernel module is not loaded: " +
           (fam_.nfproto == NFPROTO_IPV4 ? "iptable_" : "ip6table_") + table_ + "; iptc-node never runs modprobe)";
  return what + Why(e);
}

bool KernelTable::Open(Failure& failure) {
  if (fd_ >= 0) return true;
  fd_ = socket(fam_.af, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd_ >= 0) return true;
  int e = errno;
  failure.fromErrno(e, "socket", "cannot open a raw socket for " + Describe(e));
  return false;
}

bool KernelTable::Info(TableInfo& info, Failure& failure) {
  if (!Open(failure)) return false;
  ipt_getinfo gi{};
  strncpy(gi.name, table_.c_str(), sizeof(gi.name) - 1);
  socklen_t len = sizeof(gi);
  if (getsockopt(fd_, fam_.level, IPT_SO_GET_INFO, &gi, &len) != 0) {
    int e = errno;
    failure.fromErrno(e, "getsockopt", "cannot read " + Describe(e));
    return false;
  }
  info.validHooks = gi.valid_hooks;
  memcpy(info.hookEntry, gi.hook_entry, sizeof(info.hookEntry));
  memcpy(info.underflow, gi.underflow, sizeof(info.underflow));
  info.numEntries = gi.num_entries;
  info.size = gi.size;
  return true;
}

bool KernelTable::Read(TableInfo& info, Bytes& buf, Failure& failure) {
  for (int attempt = 0; attempt < 16; attempt++) {
    if (!Info(info, failure)) return false;
    // Zeroed: the kernel leaves some bytes of the entries as they are (an
    // interface name's tail), and two reads of one table must compare equal.
    buf.assign(kEntriesAt + info.size, 0);
    auto* head = reinterpret_cast<ipt_get_entries*>(buf.data());
    strncpy(head->name, table_.c_str(), sizeof(head->name) - 1);
    head->size = info.size;
    socklen_t len = static_cast<socklen_t>(buf.size());
    if (getsockopt(fd_, fam_.level, IPT_SO_GET_ENTRIES, buf.data(), &len) != 0) {
      if (errno == EAGAIN) continue;  // the table changed between the two calls
      int e = errno;
      failure.fromErrno(e, "getsockopt", "cannot read " + Describe(e));
      return false;
    }
    return true;
  }
  failure.set("EAGAIN", std::string(fam_.tool) + " table '" + table_ + "' kept changing while being read", EAGAIN,
              "getsockopt");
  return false;
}

bool KernelTable::Replace(const TableInfo& current, const NewTable& next, std::vector<xt_counters>& oldCounters,
                          Failure& failure) {
  if (!Open(failure)) return false;
  Bytes& buf = const_cast<NewTable&>(next).buf;
  auto* r = reinterpret_cast<ipt_replace*>(buf.data());
  memset(r, 0, kReplaceHead);
  strncpy(r->name, table_.c_str(), sizeof(r->name) - 1);
  r->valid_hooks = current.validHooks;
  r->num_entries = next.numEntries;
  r->size = static_cast<unsigned>(next.size());
  memcpy(r->hook_entry, next.hookEntry, sizeof(r->hook_entry));
  memcpy(r->underflow, next.underflow, sizeof(r->underflow));
  oldCounters.assign(current.numEntries, xt_counters{});
  r->num_counters = current.numEntries;
  r->counters = oldCounters.data();
  if (setsockopt(fd_, fam_.level, IPT_SO_SET_REPLACE, buf.data(), static_cast<socklen_t>(buf.size())) != 0) {
    int e = errno;
    failure.fromErrno(e, "setsockopt", Why(e));
    return false;
  }
  return true;
}

bool KernelTable::AddCounters(const std::vector<xt_counters>& counters, Failure& failure) {
  std::vector<char> buf(sizeof(xt_counters_info) + counters.size() * sizeof(xt_counters), 0);
  auto* c = reinterpret_cast<xt_counters_info*>(buf.data());
  strncpy(c->name, table_.c_str(), sizeof(c->name) - 1);
  c->num_counters = static_cast<unsigned>(counters.size());
  if (!counters.empty()) memcpy(c->counters, counters.data(), counters.size() * sizeof(xt_counters));
  if (setsockopt(fd_, fam_.level, IPT_SO_SET_ADD_COUNTERS, buf.data(), static_cast<socklen_t>(buf.size())) != 0) {
    int e = errno;
    failure.fromErrno(e, "setsockopt", "cannot restore the counters of " + Describe(e));
    return false;
  }
  return true;
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
  return std::string("this kernel has no legacy ") + fam.tool + " here: the " + fam.module +
         " module is not loaded (iptc-node never runs modprobe). Load it (modprobe " + fam.module +
         ") or, on an nftables-only kernel, use iptables-nft";
}

}  // namespace iptc
