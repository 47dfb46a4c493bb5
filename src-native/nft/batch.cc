#include "nft/batch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <endian.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <string>

#include "nft/close_later.h"

namespace iptc {

namespace {
// The most one message can need: a rule is an entry of at most 64 KB, and
// its expressions take no more than twice that.
constexpr size_t kMaxMessage = 1 << 18;
}  // namespace

NftBatch::NftBatch(uint32_t genid) {
  seq_ = static_cast<uint32_t>(time(nullptr));
  nlmsghdr* nh = nftnl_batch_begin(Room(), seq_++);
  if (genid) mnl_attr_put_u32(nh, NFNL_BATCH_GENID, htonl(genid));
  used_ += nh->nlmsg_len;
}

char* NftBatch::Room() {
  if (buf_.size() < used_ + kMaxMessage) buf_.resize(std::max(buf_.size() * 2, used_ + kMaxMessage));
  return buf_.data() + used_;
}

uint32_t NftBatch::Add(uint16_t type, int family, uint16_t flags, const std::function<void(nlmsghdr*)>& payload) {
  uint32_t seq = seq_++;
  if (flags & NLM_F_ECHO) echoes_++;
  nlmsghdr* nh = nftnl_nlmsg_build_hdr(Room(), type, static_cast<uint16_t>(family), flags, seq);
  payload(nh);
  used_ += NLMSG_ALIGN(nh->nlmsg_len);
  return seq;
}

void NftBatch::Echoed(const nlmsghdr* nh) {
  auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nh, sizeof(nfgenmsg)));
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nh));
  for (; mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a))); a = mnl_attr_next(a))
    if (mnl_attr_get_type(a) == NFTA_RULE_HANDLE) echoed_[nh->nlmsg_seq] = be64toh(mnl_attr_get_u64(a));
}

bool NftBatch::Send(uint32_t& failedSeq, Failure& failure) {
  nlmsghdr* end = nftnl_batch_end(Room(), seq_++);
  used_ += end->nlmsg_len;
  failedSeq = 0;
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    if (nl) mnl_socket_close(nl);
    failure.fromErrno(e, "socket", std::string("cannot open a netfilter netlink socket: ") + strerror(e));
    return false;
  }
  int fd = mnl_socket_get_fd(nl);
  // The whole batch goes in one message: the send buffer must hold it.
  int size = static_cast<int>(used_ + (1 << 16));
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  if (echoes_) {
    // Each echoed rule waits on the socket until read: room for all of them.
    int room = static_cast<int>(std::min<size_t>(echoes_ * 4096 + (1 << 16), 64 << 20));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof(room)) < 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &room, sizeof(room));
  }
  if (mnl_socket_sendto(nl, buf_.data(), used_) < 0) {
    int e = errno;
    CloseNetlinkLater(nl);
    failure.fromErrno(e, "sendmsg", std::string("nf_tables: ") + strerror(e) +
                                        (e == EPERM ? " (needs CAP_NET_ADMIN in the network namespace)" : ""));
    return false;
  }
  // The kernel has worked through the batch before sendmsg returns: what it
  // refused is waiting on the socket (nothing was asked to be acknowledged).
  std::vector<char> in(1 << 16);
  int err = 0;
  for (;;) {
    ssize_t got = recv(fd, in.data(), in.size(), MSG_DONTWAIT);
    if (got < 0) break;
    int n = static_cast<int>(got);
    for (auto* nh = reinterpret_cast<nlmsghdr*>(in.data()); mnl_nlmsg_ok(nh, n); nh = mnl_nlmsg_next(nh, &n)) {
      if (nh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE)) {
        Echoed(nh);
        continue;
      }
      if (nh->nlmsg_type != NLMSG_ERROR) continue;
      auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(nh));
      if (e->error == 0 || err) continue;
      err = -e->error;
      failedSeq = nh->nlmsg_seq;
    }
  }
  CloseNetlinkLater(nl);
  if (!err) return true;
  failure.fromErrno(err, "sendmsg", std::string("nf_tables refused the change: ") + strerror(err) +
                                        (err == EPERM ? " (needs CAP_NET_ADMIN in the network namespace)" : ""));
  return false;
}

}  // namespace iptc
