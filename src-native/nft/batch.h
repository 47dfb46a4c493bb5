// One nf_tables transaction: messages between a batch begin and a batch end,
// sent in one sendmsg, which the kernel applies whole or not at all. The
// begin carries the generation id the batch was made against; when the
// ruleset has moved since, the kernel refuses the batch (ERESTART).
#pragma once
#include <stdint.h>

#include <functional>
#include <map>
#include <vector>

#include "common/errors.h"

struct nlmsghdr;

namespace iptc {

class NftBatch {
 public:
  explicit NftBatch(uint32_t genid);
  // Adds one message; `payload` fills it (libnftnl's *_nlmsg_build_payload).
  // Returns its sequence number.
  uint32_t Add(uint16_t type, int family, uint16_t flags, const std::function<void(nlmsghdr*)>& payload);
  // Sends it (call inside the namespace). On a refusal, `failedSeq` is the
  // message the kernel named and `failure` says why.
  bool Send(uint32_t& failedSeq, Failure& failure);
  size_t size() const { return used_; }
  // The handles of the rules the kernel echoed back (NEWRULE sent with
  // NLM_F_ECHO), by the sequence number of their message.
  const std::map<uint32_t, uint64_t>& echoed() const { return echoed_; }

 private:
  char* Room();
  void Echoed(const nlmsghdr* nh);
  std::vector<char> buf_;
  size_t used_ = 0;
  uint32_t seq_ = 0;
  size_t echoes_ = 0;
  std::map<uint32_t, uint64_t> echoed_;
};

}  // namespace iptc
