// The four socket options that are all of the legacy xtables kernel
// interface: GET_INFO and GET_ENTRIES read a whole table, SET_REPLACE swaps
// a whole table atomically (handing back the old table's counters), and
// SET_ADD_COUNTERS adds to the new one's. No libiptc: this is what it does
// underneath, without its per-rule cache.
//
// A raw socket belongs to the network namespace of the thread that made it:
// make a KernelTable inside the namespace (see common/netns.h).
#pragma once
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "common/errors.h"
#include "xt/family.h"

namespace iptc {

// Bytes that resize() leaves as they are instead of zeroing: a table is
// megabytes, and whoever fills one (the kernel, BuildTable) writes every byte.
template <typename T>
struct LeftAsIs : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = LeftAsIs<U>;
  };
  LeftAsIs() = default;
  template <typename U>
  LeftAsIs(const LeftAsIs<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using Bytes = std::vector<char, LeftAsIs<char>>;

struct TableInfo {
  unsigned validHooks = 0;
  unsigned hookEntry[NF_INET_NUMHOOKS]{};
  unsigned underflow[NF_INET_NUMHOOKS]{};
  unsigned numEntries = 0;
  unsigned size = 0;
};

// A replacement table: the entries (after room for the SET_REPLACE header,
// so that the kernel gets them without another copy), and where each
// built-in chain starts and ends.
struct NewTable {
  static const size_t kHead;  // where the entries start in buf
  Bytes buf;
  char* entries() { return buf.data() + kHead; }
  size_t size() const { return buf.size() - kHead; }
  unsigned numEntries = 0;
  unsigned hookEntry[NF_INET_NUMHOOKS]{};
  unsigned underflow[NF_INET_NUMHOOKS]{};
};

class KernelTable {
 public:
  KernelTable(const Family& fam, std::string table) : fam_(fam), table_(std::move(table)) {}
  ~KernelTable();
  KernelTable(const KernelTable&) = delete;

  // Each returns false with `failure` set. The first call opens the socket.
  // (GET_INFO makes the kernel instantiate a table that does not exist yet.)
  bool Info(TableInfo& info, Failure& failure);
  // Info and the entries, read consistently (retried while the table changes
  // between the two calls), into a zero-filled buffer: GET_ENTRIES writes each
  // match and target name only up to its NUL, so the bytes after it must be
  // zero for two reads of one table to compare equal. The entries start at
  // kEntriesAt in `buf`.
  static const size_t kEntriesAt;
  bool Read(TableInfo& info, Bytes& buf, Failure& failure);
  // Swaps in `next`; `old` is the entry count the swap expects to replace (the
  // kernel refuses with EAGAIN when it differs). Fills `oldCounters` with the
  // replaced table's counters as of the swap.
  bool Replace(const TableInfo& current, const NewTable& next, std::vector<xt_counters>& oldCounters, Failure& failure);
  bool AddCounters(const std::vector<xt_counters>& counters, Failure& failure);

 private:
  bool Open(Failure& failure);
  std::string Describe(int e) const;  // "iptables table 'filter': <why>"
  std::string Why(int e) const;       // strerror, and what to do about it

  const Family& fam_;
  std::string table_;
  int fd_ = -1;
};

// Whether the table exists in the calling thread's namespace, without
// creating it (GET_INFO would): 1 yes, 0 no, -1 the kernel has no legacy
// tables of this family here at all (the module is not loaded).
int TableExists(const Family& fam, const std::string& table);
// What to say when TableExists() is -1.
std::string NoLegacyMessage(const Family& fam);

}  // namespace iptc
