// The decoder behind nft/decode.h: one object per rule, fed the rule's
// expressions in order. Registers are followed as far as iptables-nft follows
// them; a compare on a register becomes part of the entry's header or a
// match; a verdict, jump or nft_compat target becomes the entry's target.
// Its parts: decode.cc (expressions, verdicts, targets, the entry at the
// end), decode_header.cc (the ip header: interfaces, addresses, protocol,
// fragment; meta mark and pkttype), decode_transport.cc (tcp/udp ports and
// flags, icmp). Internal to those three files.
#pragma once
// (nft/decode.h brings xt/family.h, which must come before <net/if.h>.)
#include "nft/decode.h"

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

namespace iptc {

// What a register holds, as far as the reader follows it.
struct NftReg {
  enum Kind { kNone, kMeta, kPayload, kImmediate } kind = kNone;
  uint32_t key = 0;                        // meta key
  uint32_t base = 0, offset = 0, len = 0;  // payload
  bool bitwise = false;
  uint8_t mask[16]{};
  uint8_t data[16]{};  // immediate
  // The mask's first 32 bits (a mark's mask), read without assuming alignment.
  uint32_t mask32() const {
    uint32_t v;
    memcpy(&v, mask, sizeof(v));
    return v;
  }
};

// One match being made: its blob (xt_entry_match header and data).
struct NftMatchBlob {
  std::vector<char> blob;
  template <typename T>
  T* data() { return reinterpret_cast<T*>(blob.data() + XT_ALIGN(sizeof(xt_entry_match))); }
};

class NftDecoder {
 public:
  explicit NftDecoder(const Family& fam)
      : fam_(fam), v4_(fam.nfproto == NFPROTO_IPV4), head_(fam.headerSize, 0),
        e4_(reinterpret_cast<ipt_entry*>(head_.data())), e6_(reinterpret_cast<ip6t_entry*>(head_.data())) {}

  void Run(nftnl_rule* r, NftDecoded& out);

 private:
  using Reg = NftReg;
  using Match = NftMatchBlob;

  // decode.cc
  void Fail(const std::string& why);
  Reg* RegOf(uint32_t n);
  void Expression(nftnl_expr* e);
  void Meta(nftnl_expr* e);
  void Bitwise(nftnl_expr* e);
  void Cmp(nftnl_expr* e);
  void Immediate(nftnl_expr* e);
  void Compat(nftnl_expr* e, uint16_t nameAttr, uint16_t revAttr, uint16_t infoAttr, bool match);
  void Limit(nftnl_expr* e);
  void Log(nftnl_expr* e);
  void UserdataComment(nftnl_rule* r);
  Match& NewMatch(const char* name, uint8_t revision, size_t size);
  void SetTarget(const char* name, uint8_t revision, const void* data, size_t size);
  void Finish(NftDecoded& out);

  // decode_header.cc
  char* Iniface() { return v4_ ? e4_->ip.iniface : e6_->ipv6.iniface; }
  char* Outiface() { return v4_ ? e4_->ip.outiface : e6_->ipv6.outiface; }
  unsigned char* InMask() { return v4_ ? e4_->ip.iniface_mask : e6_->ipv6.iniface_mask; }
  unsigned char* OutMask() { return v4_ ? e4_->ip.outiface_mask : e6_->ipv6.outiface_mask; }
  uint8_t& Invflags() { return v4_ ? e4_->ip.invflags : e6_->ipv6.invflags; }
  uint8_t& Flags() { return v4_ ? e4_->ip.flags : e6_->ipv6.flags; }
  uint16_t& Proto() { return v4_ ? e4_->ip.proto : e6_->ipv6.proto; }
  static void Ifname(const char* name, uint32_t len, char* dst, unsigned char* mask);
  static void InvalidIface(char* iface, unsigned char* mask, uint8_t& inv, uint8_t bit);
  void MetaCmp(const Reg& r, nftnl_expr* e, bool neq);
  void NetworkCmp(const Reg& r, nftnl_expr* e, bool neq);

  // decode_transport.cc
  template <typename T>
  T* TcpUdp(const char* name);
  template <typename T>
  void Ports(int sport, int dport, uint32_t op, uint8_t sinv, uint8_t dinv, const char* name);
  void PortCmp(int sport, int dport, uint32_t op);
  void TransportCmp(const Reg& r, nftnl_expr* e, uint32_t op);
  void Icmp(const Reg& r, const uint8_t* data, uint32_t len);
  void Range(nftnl_expr* e);

  const Family& fam_;
  bool v4_;
  std::vector<char> head_;  // the entry's header (ipt_entry or ip6t_entry), by hand:
  ipt_entry* e4_;           // both end in a flexible array
  ip6t_entry* e6_;
  Reg regs_[32];
  std::vector<Match> matches_;
  int tcpudp_ = -1;  // which of matches_ is the rule's one tcp or udp match
  std::vector<char> target_;
  bool hasVerdict_ = false;
  int32_t verdict_ = 0;
  std::string jump_;
  xt_counters counters_{};
  std::string error_;
};

}  // namespace iptc
