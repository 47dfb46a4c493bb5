#include "nft/nft.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/netns.h"
#include "common/worker.h"

namespace iptc {

namespace {

struct NftTable {
  int family;
  std::string name;
  uint32_t chains = 0;
  uint32_t rules = 0;
};

// One nfnetlink dump request (GETTABLE or GETRULE, all families); calls
// `each` with every answer's nfgen family and its attributes.
bool Dump(int fd, int msg, uint32_t seq, const std::function<void(int, const nlattr*, size_t)>& each, int& err) {
  struct {
    nlmsghdr nh;
    nfgenmsg nf;
  } req{};
  req.nh.nlmsg_len = sizeof(req);
  req.nh.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = seq;
  req.nf.nfgen_family = NFPROTO_UNSPEC;
  req.nf.version = NFNETLINK_V0;
  if (send(fd, &req, sizeof(req), 0) < 0) {
    err = errno;
    return false;
  }
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    for (auto* nh = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(nh, static_cast<size_t>(n)); nh = NLMSG_NEXT(nh, n)) {
      if (nh->nlmsg_type == NLMSG_DONE) return true;
      if (nh->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(nh));
        err = -e->error;
        return e->error == 0;
      }
      auto* nf = static_cast<nfgenmsg*>(NLMSG_DATA(nh));
      auto* attr = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(nf) + NLMSG_ALIGN(sizeof(*nf)));
      size_t len = nh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*nf)));
      each(nf->nfgen_family, attr, len);
    }
  }
}

// The string attribute `type` among `attr[0..len)`, or "".
std::string StringAttr(const nlattr* attr, size_t len, int type) {
  for (size_t off = 0; off + sizeof(nlattr) <= len;) {
    auto* a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(attr) + off);
    if (a->nla_len < sizeof(nlattr)) break;
    if ((a->nla_type & NLA_TYPE_MASK) == type)
      return std::string(reinterpret_cast<const char*>(a) + NLA_HDRLEN, strnlen(reinterpret_cast<const char*>(a) + NLA_HDRLEN, a->nla_len - NLA_HDRLEN));
    off += NLA_ALIGN(a->nla_len);
  }
  return "";
}

class NftJob : public Job {
 public:
  explicit NftJob(int netns) : netns_(netns) {}
  void Run() override {
    RunInNetns(netns_, failure, [&] {
      int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
      if (fd < 0) {
        noNft_ = true;  // no nfnetlink: no nf_tables either
        return;
      }
      timeval tv{2, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      std::map<std::pair<int, std::string>, NftTable> tables;
      int err = 0;
      bool ok = Dump(fd, NFT_MSG_GETTABLE, 1, [&](int fam, const nlattr* a, size_t len) {
        std::string name = StringAttr(a, len, NFTA_TABLE_NAME);
        tables[{fam, name}] = NftTable{fam, name};
      }, err);
      if (ok) {
        Dump(fd, NFT_MSG_GETCHAIN, 2, [&](int fam, const nlattr* a, size_t len) {
          auto it = tables.find({fam, StringAttr(a, len, NFTA_CHAIN_TABLE)});
          if (it != tables.end()) it->second.chains++;
        }, err);
        Dump(fd, NFT_MSG_GETRULE, 3, [&](int fam, const nlattr* a, size_t len) {
          auto it = tables.find({fam, StringAttr(a, len, NFTA_RULE_TABLE)});
          if (it != tables.end()) it->second.rules++;
        }, err);
      } else {
        noNft_ = true;  // nf_tables not loaded (or not allowed): nothing to report
      }
      close(fd);
      for (auto& t : tables) out_.push_back(t.second);
    });
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array a = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      const NftTable& t = out_[i];
      o.Set("family", t.family == NFPROTO_IPV4 ? "ipv4" : t.family == NFPROTO_IPV6 ? "ipv6" : t.family == NFPROTO_INET ? "inet" : std::to_string(t.family));
      o.Set("name", t.name);
      o.Set("chains", t.chains);
      o.Set("rules", t.rules);
      a[i] = o;
    }
    return a;
  }

 private:
  NetnsHold netns_;
  bool noNft_ = false;
  std::vector<NftTable> out_;
};

}  // namespace

Napi::Value NftTables(const Napi::CallbackInfo& info) {
  auto job = std::make_unique<NftJob>(info[0].As<Napi::Number>().Int32Value());
  return RunJob(info.Env(), std::move(job), info[1].ToBoolean());
}

}  // namespace iptc
