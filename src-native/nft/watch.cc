#include "nft/watch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/gen.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <mutex>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace iptc {

namespace {

struct Watch {
  mnl_socket* nl = nullptr;  // null once released (then `held` is what it had received)
  dev_t dev = 0;             // the namespace's nsfs inode (while the socket is open, it is this one's)
  ino_t ino = 0;
  std::vector<NftEventBatch> held;
  bool lost = false;
  uint64_t epoch = 0;
  NftEventBatch pending;  // messages of a batch whose NEWGEN has not come yet
  bool announced = false;
  uint32_t last = 0;  // the last generation announced
};

std::mutex lock;
std::map<uint64_t, Watch> watches;  // by namespace cookie
uint64_t epochs = 0;

void Close(std::map<uint64_t, Watch>::iterator it) {
  if (it->second.nl) mnl_socket_close(it->second.nl);
  watches.erase(it);
}

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// One datagram's messages into batches. false: one it cannot read.
bool Take(Watch& w, const char* buf, int n, std::vector<NftEventBatch>& out) {
  for (auto* nh = reinterpret_cast<const nlmsghdr*>(buf); mnl_nlmsg_ok(nh, n); nh = mnl_nlmsg_next(nh, &n)) {
    if (NFNL_SUBSYS_ID(nh->nlmsg_type) != NFNL_SUBSYS_NFTABLES) return false;
    if (NFNL_MSG_TYPE(nh->nlmsg_type) == NFT_MSG_NEWGEN) {
      nftnl_gen* g = nftnl_gen_alloc();
      bool ok = g && nftnl_gen_nlmsg_parse(nh, g) == 0 && nftnl_gen_is_set(g, NFTNL_GEN_ID);
      if (ok) w.pending.genid = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
      if (g) nftnl_gen_free(g);
      if (!ok) return false;
      w.announced = true;
      w.last = w.pending.genid;
      out.push_back(std::move(w.pending));
      w.pending = NftEventBatch();
      continue;
    }
    const char* p = reinterpret_cast<const char*>(nh);
    w.pending.messages.emplace_back(p, p + nh->nlmsg_len);
  }
  return n == 0;
}

}  // namespace

uint64_t NftWatchEnsure(uint64_t netns) {
  std::lock_guard<std::mutex> hold(lock);
  auto it = watches.find(netns);
  if (it != watches.end() && it->second.nl) return it->second.epoch;
  if (it != watches.end()) Close(it);  // released: a new socket, a new epoch
  struct stat st;
  if (stat("/proc/thread-self/ns/net", &st) != 0) return 0;
  mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (!nl) return 0;
  int fd = mnl_socket_get_fd(nl);
  int group = NFNLGRP_NFTABLES;
  // Room for a few thousand rules' announcements between two reads (more,
  // and the kernel says ENOBUFS: the table is dumped again).
  int size = 16 << 20;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
    mnl_socket_close(nl);
    return 0;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  Watch& w = watches[netns];
  w.nl = nl;
  w.dev = st.st_dev;
  w.ino = st.st_ino;
  w.epoch = ++epochs;
  return w.epoch;
}

uint64_t NftWatchEpoch(uint64_t netns) {
  std::lock_guard<std::mutex> hold(lock);
  auto it = watches.find(netns);
  return it == watches.end() || !it->second.nl ? 0 : it->second.epoch;
}

void NftWatchRelease(int nsfd) {
  struct stat st;
  if (fstat(nsfd, &st) != 0) return;
  std::lock_guard<std::mutex> hold(lock);
  size_t released = 0;
  for (auto it = watches.begin(); it != watches.end();) {
    Watch& w = it->second;
    if (!w.nl || w.dev != st.st_dev || w.ino != st.st_ino) {
      released += !w.nl;
      ++it;
      continue;
    }
    // Everything the kernel announced is queued already (it announces a
    // batch before the batch's sender hears back): keep it, then close.
    static thread_local std::vector<char> buf(1 << 17);
    int fd = mnl_socket_get_fd(w.nl);
    for (;;) {
      ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        w.lost = errno != EAGAIN && errno != EWOULDBLOCK;
        break;
      }
      if (static_cast<size_t>(n) > buf.size() || !Take(w, buf.data(), static_cast<int>(n), w.held)) {
        w.lost = true;
        break;
      }
    }
    mnl_socket_close(w.nl);
    w.nl = nullptr;
    // Nothing to hand on, or too many namespaces released and not read
    // since: gone (a table known there is then used only while the
    // generation stays).
    if ((w.held.empty() && !w.lost) || released >= 16) {
      it = watches.erase(it);
      continue;
    }
    released++;
    ++it;
  }
}

NftDrain NftWatchDrain(uint64_t netns, uint64_t epoch, uint32_t until, int waitMs, std::vector<NftEventBatch>& out) {
  std::lock_guard<std::mutex> hold(lock);
  auto it = watches.find(netns);
  if (it == watches.end() || it->second.epoch != epoch) return NftDrain::kNone;
  Watch& w = it->second;
  if (!w.nl) {  // released: what it had, once
    bool lost = w.lost;
    for (NftEventBatch& b : w.held) out.push_back(std::move(b));
    watches.erase(it);
    return lost ? NftDrain::kLost : NftDrain::kOk;
  }
  int fd = mnl_socket_get_fd(w.nl);
  static thread_local std::vector<char> buf(1 << 17);
  int64_t deadline = NowMs() + waitMs;
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (n >= 0) {
      if (static_cast<size_t>(n) > buf.size() || !Take(w, buf.data(), static_cast<int>(n), out)) {
        Close(it);
        return NftDrain::kLost;
      }
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {  // ENOBUFS: announcements were dropped
      Close(it);
      return NftDrain::kLost;
    }
    if (w.announced && w.last == until) return NftDrain::kOk;
    int64_t left = deadline - NowMs();
    if (left <= 0) return NftDrain::kOk;
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(left));
  }
}

void NftWatchClose(uint64_t netns) {
  std::lock_guard<std::mutex> hold(lock);
  auto it = watches.find(netns);
  if (it != watches.end()) Close(it);
}

}  // namespace iptc
