#include "nft/known.h"

#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#include <atomic>
#include <deque>
#include <mutex>

#include "nft/known_apply.h"
#include "nft/watch.h"

namespace iptc {

namespace {

struct Entry {
  uint64_t netns;
  const Family* fam;
  std::string table;
  std::shared_ptr<const NftKnownTable> t;
  uint64_t epoch;  // the watch it is kept current by (0: none)
};

std::mutex lock;
std::deque<Entry> entries;  // newest first
constexpr size_t kMax = 8;
std::atomic<uint64_t> same{0}, caughtUp{0}, fellBack{0};

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

uint32_t After(uint32_t g) { return g + 1 == 0 ? 1 : g + 1; }  // the kernel skips 0

// Reads what the namespace's watch has announced and brings every table
// known there through it (under `lock`). A table that cannot follow (a gap
// in the generations, an announcement it cannot apply, events lost) is
// forgotten: the next read for a change dumps it.
void CatchUp(uint64_t netns, uint64_t epoch, uint32_t until, int waitMs) {
  std::vector<NftEventBatch> batches;
  NftDrain got = NftWatchDrain(netns, epoch, until, waitMs, batches);
  if (got == NftDrain::kNone) return;
  for (auto it = entries.begin(); it != entries.end();) {
    if (it->netns != netns || it->epoch != epoch) {
      ++it;
      continue;
    }
    bool ok = got == NftDrain::kOk;
    std::vector<const NftEventBatch*> mine;
    uint32_t g = it->t->genid;
    for (size_t b = 0; ok && b < batches.size(); b++) {
      if (static_cast<int32_t>(batches[b].genid - g) <= 0) continue;  // known already
      if (batches[b].genid != After(g)) ok = false;  // one went unseen
      mine.push_back(&batches[b]);
      g = batches[b].genid;
    }
    std::shared_ptr<const NftKnownTable> now;
    if (ok) ok = ApplyNftBatches(*it->fam, it->table, it->t, mine, now);
    if (!ok) {
      it = entries.erase(it);
      continue;
    }
    it->t = std::move(now);
    ++it;
  }
}

}  // namespace

uint64_t WatchNftNetns() {
  uint64_t netns;
  return ThisNetns(netns) ? NftWatchEnsure(netns) : 0;
}

void UnwatchNftNetns() {
  uint64_t netns;
  if (!ThisNetns(netns)) return;
  std::lock_guard<std::mutex> hold(lock);
  NftWatchClose(netns);
  for (auto it = entries.begin(); it != entries.end();)
    it = it->netns == netns ? entries.erase(it) : it + 1;
}

bool NftKnownFollows(const Family& fam, const std::string& table, uint32_t genid) {
  uint64_t netns;
  if (!ThisNetns(netns)) return false;
  std::lock_guard<std::mutex> hold(lock);
  for (const Entry& e : entries)
    if (e.netns == netns && e.fam->nfproto == fam.nfproto && e.table == table)
      return e.t->genid == genid && e.epoch != 0 && NftWatchEpoch(netns) == e.epoch;
  return false;
}

void KnowNftTable(const Family& fam, const std::string& table, std::shared_ptr<const NftKnownTable> t, uint64_t epoch) {
  uint64_t netns;
  if (!ThisNetns(netns)) return;
  std::lock_guard<std::mutex> hold(lock);
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it->netns == netns && it->fam->nfproto == fam.nfproto && it->table == table) {
      entries.erase(it);
      break;
    }
  }
  entries.push_front(Entry{netns, &fam, table, std::move(t), epoch});
  if (entries.size() > kMax) entries.pop_back();
}

std::shared_ptr<const NftKnownTable> KnownNftTable(const Family& fam, const std::string& table, uint32_t genid) {
  uint64_t netns;
  if (!ThisNetns(netns)) return nullptr;
  std::lock_guard<std::mutex> hold(lock);
  auto find = [&]() -> Entry* {
    for (Entry& e : entries)
      if (e.netns == netns && e.fam->nfproto == fam.nfproto && e.table == table) return &e;
    return nullptr;
  };
  Entry* e = find();
  if (!e) {
    fellBack++;
    return nullptr;
  }
  if (e->t->genid == genid) {
    // (Our own batches' announcements are read off as they come, so they
    // never fill the socket.)
    if (e->epoch) CatchUp(netns, e->epoch, genid, 0);
    e = find();
    if (e && e->t->genid == genid) {
      same++;
      return e->t;
    }
    fellBack++;  // moved on meanwhile
    return nullptr;
  }
  if (e->epoch) {
    // The kernel moves the generation before it announces the batch: wait
    // a little for what is on its way.
    CatchUp(netns, e->epoch, genid, 100);
    e = find();
    if (e && e->t->genid == genid) {
      caughtUp++;
      return e->t;
    }
  }
  fellBack++;
  return nullptr;
}

Napi::Value NftKnownStats(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("same", static_cast<double>(same.load()));
  o.Set("caughtUp", static_cast<double>(caughtUp.load()));
  o.Set("fellBack", static_cast<double>(fellBack.load()));
  return o;
}

}  // namespace iptc
