#include "nft/known.h"

#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#include <deque>
#include <mutex>

namespace iptc {

namespace {

struct Entry {
  uint64_t netns;
  int nfproto;
  std::string table;
  std::shared_ptr<const NftKnownTable> t;
};

std::mutex lock;
std::deque<Entry> entries;  // newest first
constexpr size_t kMax = 8;

// The namespace's cookie: unlike its inode number, never given to another
// namespace while the machine runs (a namespace made after one is gone could
// otherwise be taken for it, generation and all).
bool ThisNetns(uint64_t& cookie) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  socklen_t len = sizeof(cookie);
  bool ok = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0;
  close(fd);
  return ok;
}

}  // namespace

void KnowNftTable(const Family& fam, const std::string& table, std::shared_ptr<const NftKnownTable> t) {
  uint64_t netns;
  if (!ThisNetns(netns)) return;
  std::lock_guard<std::mutex> hold(lock);
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it->netns == netns && it->nfproto == fam.nfproto && it->table == table) {
      entries.erase(it);
      break;
    }
  }
  entries.push_front(Entry{netns, fam.nfproto, table, std::move(t)});
  if (entries.size() > kMax) entries.pop_back();
}

std::shared_ptr<const NftKnownTable> KnownNftTable(const Family& fam, const std::string& table, uint32_t genid) {
  uint64_t netns;
  if (!ThisNetns(netns)) return nullptr;
  std::lock_guard<std::mutex> hold(lock);
  for (const Entry& e : entries)
    if (e.netns == netns && e.nfproto == fam.nfproto && e.table == table)
      return e.t->genid == genid ? e.t : nullptr;
  return nullptr;
}

}  // namespace iptc
