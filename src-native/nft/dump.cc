#include "nft/dump.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <endian.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <functional>

#include "nft/close_later.h"

namespace iptc {

void NftRuleDeleter::operator()(nftnl_rule* r) const { nftnl_rule_free(r); }

namespace {

class Socket {
 public:
  ~Socket() { CloseNetlinkLater(nl_); }  // (see nft/close_later.h)
  bool Open(Failure& failure) {
    nl_ = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl_ || mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
      int e = errno;
      failure.fromErrno(e, "socket", std::string("cannot open a netfilter netlink socket: ") + strerror(e));
      return false;
    }
    portid_ = mnl_socket_get_portid(nl_);
    // A kernel that never answers must not hold a worker thread for ever.
    timeval tv{5, 0};
    setsockopt(mnl_socket_get_fd(nl_), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return true;
  }
  // Sends one request and feeds every answer to `each`; a message marked
  // NLM_F_DUMP_INTR sets `interrupted`. ENOENT (no such table) is `missing`.
  bool Ask(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& each, bool& interrupted, bool& missing,
           Failure& failure) {
    uint32_t seq = nlh->nlmsg_seq;
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
      int e = errno;
      failure.fromErrno(e, "sendto", std::string("netlink: ") + strerror(e));
      return false;
    }
    std::vector<char> buf(1 << 18);
    struct Ctx {
      const std::function<void(const nlmsghdr*)>* each;
      bool* interrupted;
    } ctx{&each, &interrupted};
    auto cb = [](const nlmsghdr* nh, void* data) -> int {
      auto* c = static_cast<Ctx*>(data);
      if (nh->nlmsg_flags & NLM_F_DUMP_INTR) *c->interrupted = true;
      (*c->each)(nh);
      return MNL_CB_OK;
    };
    for (;;) {
      ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
      if (n < 0) {
        int e = errno;
        if (e == EINTR) continue;
        failure.fromErrno(e, "recvfrom", std::string("netlink: ") + strerror(e));
        return false;
      }
      int ret = mnl_cb_run(buf.data(), n, seq, portid_, cb, &ctx);
      if (ret == MNL_CB_STOP) return true;
      if (ret < 0) {
        int e = errno;
        if (e == ENOENT) {
          missing = true;
          return true;
        }
        if (e == EINTR) {
          // libmnl stops at the first message marked interrupted: the rest
          // of the dump is still to come, and must be read off the socket
          // before anything else is asked on it.
          interrupted = true;
          return Drain(buf, static_cast<int>(n), seq, failure);
        }
        failure.fromErrno(e, "recvfrom", std::string("nf_tables: ") + strerror(e) +
                                             (e == EPERM ? " (needs CAP_NET_ADMIN in the network namespace)" : ""));
        return false;
      }
    }
  }

  // Reads and drops the rest of the answer to request `seq`, to its end
  // (which may be in the `held` bytes already read into buf).
  bool Drain(std::vector<char>& buf, int held, uint32_t seq, Failure& failure) {
    auto ends = [&](int n) {
      for (auto* nh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nh, n); nh = mnl_nlmsg_next(nh, &n))
        if (nh->nlmsg_seq == seq && (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR)) return true;
      return false;
    };
    if (ends(held)) return true;
    for (;;) {
      ssize_t got = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
      if (got < 0) {
        int e = errno;
        if (e == EINTR) continue;
        failure.fromErrno(e, "recvfrom", std::string("netlink: ") + strerror(e));
        return false;
      }
      if (ends(static_cast<int>(got))) return true;
    }
  }

 private:
  mnl_socket* nl_ = nullptr;
  uint32_t portid_ = 0;
};

bool GenId(Socket& s, uint32_t seq, uint32_t& id, Failure& failure) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  // (With an ACK asked for: the answer is one message, and the ACK ends it.)
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, seq);
  bool interrupted = false, missing = false;
  return s.Ask(nlh, [&](const nlmsghdr* nh) {
    nftnl_gen* g = nftnl_gen_alloc();
    if (g && nftnl_gen_nlmsg_parse(nh, g) == 0) id = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
    if (g) nftnl_gen_free(g);
  }, interrupted, missing, failure);
}

// A rule message's handle and counter, straight from its attributes: no
// libnftnl rule, no expression objects (what a counter poll needs). The
// dump asked for one table, so every rule is that table's.
// The attributes nested in `a` (libmnl's for_each macros are C: void *).
template <typename F>
void EachNested(const nlattr* a, F f) {
  const char* end = reinterpret_cast<const char*>(a) + a->nla_len;
  for (auto* x = static_cast<const nlattr*>(mnl_attr_get_payload(a));
       mnl_attr_ok(x, end - reinterpret_cast<const char*>(x)); x = mnl_attr_next(x))
    f(x);
}

void CounterOf(const nlmsghdr* nh, NftTableDump& out) {
  uint64_t handle = 0, packets = 0, bytes = 0;
  auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nh, sizeof(nfgenmsg)));
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nh));
  for (; mnl_attr_ok(a, tail - reinterpret_cast<const char*>(a)); a = mnl_attr_next(a)) {
    if (mnl_attr_get_type(a) == NFTA_RULE_HANDLE) {
      handle = be64toh(mnl_attr_get_u64(a));
    } else if (mnl_attr_get_type(a) == NFTA_RULE_EXPRESSIONS) {
      EachNested(a, [&](const nlattr* e) {
        const nlattr *name = nullptr, *data = nullptr;
        EachNested(e, [&](const nlattr* x) {
          if (mnl_attr_get_type(x) == NFTA_EXPR_NAME) name = x;
          else if (mnl_attr_get_type(x) == NFTA_EXPR_DATA) data = x;
        });
        if (!name || !data || strcmp(mnl_attr_get_str(name), "counter") != 0) return;
        EachNested(data, [&](const nlattr* c) {
          if (mnl_attr_get_type(c) == NFTA_COUNTER_PACKETS) packets = be64toh(mnl_attr_get_u64(c));
          else if (mnl_attr_get_type(c) == NFTA_COUNTER_BYTES) bytes = be64toh(mnl_attr_get_u64(c));
        });
      });
    }
  }
  out.handles.push_back(handle);
  out.counters.push_back(packets);
  out.counters.push_back(bytes);
}

}  // namespace

bool DumpNftTable(int family, const std::string& table, NftTableDump& out, Failure& failure, NftRules rules) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  uint32_t seq = 1;
  for (int attempt = 0; attempt < 16; attempt++) {
    // A new socket each time: an interrupted dump leaves the rest of its
    // answer unread on the old one.
    Socket s;
    if (!s.Open(failure)) {
      if (attempt > 0) return false;
      // No nfnetlink at all: no nf_tables either.
      failure = Failure();
      return true;
    }
    out = NftTableDump();
    uint32_t before = 0, after = 0;
    if (!GenId(s, seq++, before, failure)) return false;
    bool interrupted = false, missing = false;
    // The table itself: does it exist, with which flags.
    nftnl_table* t = nftnl_table_alloc();
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, table.c_str());
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK, seq++);
    nftnl_table_nlmsg_build_payload(nlh, t);
    nftnl_table_free(t);
    if (!s.Ask(nlh, [&](const nlmsghdr* nh) {
          nftnl_table* x = nftnl_table_alloc();
          if (x && nftnl_table_nlmsg_parse(nh, x) == 0) {
            out.exists = true;
            out.flags = nftnl_table_get_u32(x, NFTNL_TABLE_FLAGS);
          }
          if (x) nftnl_table_free(x);
        }, interrupted, missing, failure))
      return false;
    if (missing || !out.exists) {
      out.exists = false;
      return true;
    }
    // Its chains.
    nftnl_chain* c = nftnl_chain_alloc();
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table.c_str());
    nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, NLM_F_DUMP, seq++);
    nftnl_chain_nlmsg_build_payload(nlh, c);
    nftnl_chain_free(c);
    if (!s.Ask(nlh, [&](const nlmsghdr* nh) {
          nftnl_chain* x = nftnl_chain_alloc();
          if (x && nftnl_chain_nlmsg_parse(nh, x) == 0 && table == nftnl_chain_get_str(x, NFTNL_CHAIN_TABLE)) {
            NftChainInfo ci;
            ci.name = nftnl_chain_get_str(x, NFTNL_CHAIN_NAME);
            ci.handle = nftnl_chain_get_u64(x, NFTNL_CHAIN_HANDLE);
            ci.base = nftnl_chain_is_set(x, NFTNL_CHAIN_HOOKNUM);
            if (ci.base) {
              ci.hook = nftnl_chain_get_u32(x, NFTNL_CHAIN_HOOKNUM);
              ci.prio = nftnl_chain_get_s32(x, NFTNL_CHAIN_PRIO);
              if (nftnl_chain_is_set(x, NFTNL_CHAIN_TYPE)) ci.type = nftnl_chain_get_str(x, NFTNL_CHAIN_TYPE);
              if (nftnl_chain_is_set(x, NFTNL_CHAIN_POLICY)) ci.policy = nftnl_chain_get_u32(x, NFTNL_CHAIN_POLICY);
              ci.packets = nftnl_chain_get_u64(x, NFTNL_CHAIN_PACKETS);
              ci.bytes = nftnl_chain_get_u64(x, NFTNL_CHAIN_BYTES);
            }
            out.chains.push_back(std::move(ci));
          }
          if (x) nftnl_chain_free(x);
        }, interrupted, missing, failure))
      return false;
    // Its rules, a dump per chain: the kernel goes back over everything it
    // dumped before at each continuation of a dump (every ~32 KB), so one
    // dump of the whole table costs O(rules²) however its rules are spread,
    // and one per chain O(Σ rules of a chain²). (Past a few thousand chains
    // the round trips cost more than that saves: then one dump.)
    if (rules != NftRules::kNone) {
      std::vector<const std::string*> chains;
      if (out.chains.size() <= 4096)
        for (const NftChainInfo& c : out.chains) chains.push_back(&c.name);
      if (chains.empty()) chains.push_back(nullptr);
      for (const std::string* chain : chains) {
        nftnl_rule* r = nftnl_rule_alloc();
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table.c_str());
        if (chain) nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain->c_str());
        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP, seq++);
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
        if (!s.Ask(nlh, [&](const nlmsghdr* nh) {
              if (rules == NftRules::kCounters) {
                CounterOf(nh, out);
                return;
              }
              NftRulePtr x(nftnl_rule_alloc());
              if (x && nftnl_rule_nlmsg_parse(nh, x.get()) == 0 && table == nftnl_rule_get_str(x.get(), NFTNL_RULE_TABLE))
                out.rules.push_back(std::move(x));
            }, interrupted, missing, failure))
          return false;
        if (interrupted || missing) break;
      }
    }
    if (!GenId(s, seq++, after, failure)) return false;
    if (!interrupted && !missing && before == after) {
      out.genid = after;
      return true;
    }
  }
  failure.set("EAGAIN", "nf_tables table '" + table + "' kept changing while being read", EAGAIN, "recvfrom");
  return false;
}

bool NftGenId(uint32_t& id, Failure& failure) {
  Socket s;
  return s.Open(failure) && GenId(s, 1, id, failure);
}

bool NftTableNames(int family, std::vector<std::string>& names, Failure& failure) {
  Socket s;
  if (!s.Open(failure)) {
    failure = Failure();
    return true;
  }
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_DUMP, 1);
  bool interrupted = false, missing = false;
  return s.Ask(nlh, [&](const nlmsghdr* nh) {
    nftnl_table* x = nftnl_table_alloc();
    if (x && nftnl_table_nlmsg_parse(nh, x) == 0) names.emplace_back(nftnl_table_get_str(x, NFTNL_TABLE_NAME));
    if (x) nftnl_table_free(x);
  }, interrupted, missing, failure);
}

}  // namespace iptc
