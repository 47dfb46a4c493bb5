#include "nft/encode.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

namespace iptc {

namespace {

// Every expression iptables-nft writes loads into register 1 and compares
// from it; the names follow nft-shared.c's helpers.
class Encoder {
 public:
  Encoder(nftnl_rule* r) : r_(r) {}

  nftnl_expr* Add(const char* name) {
    nftnl_expr* e = nftnl_expr_alloc(name);
    if (e) nftnl_rule_add_expr(r_, e);
    else oom_ = true;
    return e;
  }
  void Meta(uint32_t key) {
    if (nftnl_expr* e = Add("meta")) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    }
  }
  void Payload(uint32_t base, uint32_t offset, uint32_t len) {
    if (nftnl_expr* e = Add("payload")) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    }
  }
  void Bitwise(const void* mask, uint32_t len) {
    static const uint8_t zero[16] = {};
    if (nftnl_expr* e = Add("bitwise")) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
      nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
      nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
    }
  }
  void Cmp(uint32_t op, const void* data, uint32_t len) {
    if (nftnl_expr* e = Add("cmp")) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
      nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    }
  }
  template <typename T>
  void CmpOf(uint32_t op, T v) { Cmp(op, &v, sizeof(v)); }

  // -i / -o: the name with its NUL; "eth+" as a prefix; "! -i +" can match
  // nothing, which iptables-nft writes as a name no interface has.
  void Interface(uint32_t key, const char* name, uint32_t op) {
    size_t len = strnlen(name, IFNAMSIZ);
    Meta(key);
    if (len && name[len - 1] == '+') {
      if (len > 1) Cmp(op, name, static_cast<uint32_t>(len - 1));
      else if (op != NFT_CMP_EQ) Cmp(NFT_CMP_EQ, "INVAL/D", sizeof("INVAL/D"));
    } else {
      char buf[IFNAMSIZ + 1] = {};
      memcpy(buf, name, len);
      Cmp(op, buf, static_cast<uint32_t>(len + 1));
    }
  }

  // -s / -d: a mask of whole bytes becomes a shorter load; any other a bitwise.
  void Address(uint32_t offset, const uint8_t* addr, const uint8_t* mask, uint32_t len, uint32_t op) {
    uint32_t i = 0;
    bool bitwise = false;
    for (; i < len; i++) {
      if (mask[i] != 0xff) {
        bitwise = mask[i] != 0;
        break;
      }
    }
    for (uint32_t j = i + 1; !bitwise && j < len; j++) bitwise = mask[j] != 0;
    if (!bitwise) len = i;
    Payload(NFT_PAYLOAD_NETWORK_HEADER, offset, len);
    if (bitwise) Bitwise(mask, len);
    Cmp(op, addr, len);
  }

  void PortRange(uint16_t lo, uint16_t hi, bool invert) {
    if (lo == hi) return CmpOf<uint16_t>(invert ? NFT_CMP_NEQ : NFT_CMP_EQ, htons(lo));
    if (lo == 0 && hi < 0xffff) return CmpOf<uint16_t>(invert ? NFT_CMP_GT : NFT_CMP_LTE, htons(hi));
    if (nftnl_expr* e = Add("range")) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, invert ? NFT_RANGE_NEQ : NFT_RANGE_EQ);
      uint16_t from = htons(lo), to = htons(hi);
      nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &from, sizeof(from));
      nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &to, sizeof(to));
    }
  }

  void Ports(const uint16_t src[2], bool invSrc, const uint16_t dst[2], bool invDst) {
    if (src[0] && src[0] == src[1] && dst[0] && dst[0] == dst[1] && invSrc == invDst) {
      // Both single ports, alike negated: one 4-byte load.
      Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4);
      return CmpOf<uint32_t>(invSrc ? NFT_CMP_NEQ : NFT_CMP_EQ, htonl(dst[0] | (uint32_t{src[0]} << 16)));
    }
    if (src[0] || src[1] < 0xffff) {
      Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2);
      PortRange(src[0], src[1], invSrc);
    }
    if (dst[0] || dst[1] < 0xffff) {
      Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
      PortRange(dst[0], dst[1], invDst);
    }
  }

  void Compat(const char* kind, const char* name, uint8_t revision, const void* data, size_t size) {
    // (The match and target attributes are two enums of the same numbers.)
    bool match = kind[0] == 'm';
    uint16_t nameAt = match ? uint16_t{NFTNL_EXPR_MT_NAME} : uint16_t{NFTNL_EXPR_TG_NAME};
    uint16_t revAt = match ? uint16_t{NFTNL_EXPR_MT_REV} : uint16_t{NFTNL_EXPR_TG_REV};
    uint16_t infoAt = match ? uint16_t{NFTNL_EXPR_MT_INFO} : uint16_t{NFTNL_EXPR_TG_INFO};
    if (nftnl_expr* e = Add(kind)) {
      nftnl_expr_set(e, nameAt, name, static_cast<uint32_t>(strlen(name)));
      nftnl_expr_set_u32(e, revAt, revision);
      // libnftnl keeps (and frees) the info it is given, not a copy of it.
      void* info = calloc(1, size ? size : 1);
      if (!info) {
        oom_ = true;
        return;
      }
      memcpy(info, data, size);
      nftnl_expr_set(e, infoAt, info, static_cast<uint32_t>(size));
    }
  }

  bool oom() const { return oom_; }

 private:
  nftnl_rule* r_;
  bool oom_ = false;
};

template <typename T>
bool AllZeroPorts(const T& t) {
  T zero{};
  zero.spts[1] = zero.dpts[1] = 0xffff;
  return memcmp(&t, &zero, sizeof(t)) == 0;
}

bool AddMatch(Encoder& x, const xt_entry_match* m, uint16_t proto, std::string& error) {
  const char* name = m->u.user.name;
  const void* data = m->data;
  size_t size = m->u.match_size - sizeof(xt_entry_match);
  if (!strcmp(name, "limit")) {
    const auto* rate = static_cast<const xt_rateinfo*>(data);
    static const uint32_t mult[] = {XT_LIMIT_SCALE * 24 * 60 * 60, XT_LIMIT_SCALE * 60 * 60, XT_LIMIT_SCALE * 60,
                                    XT_LIMIT_SCALE};
    if (rate->avg == 0) {
      error = "a limit of no rate";
      return false;
    }
    size_t i = 1;
    for (; i < sizeof(mult) / sizeof(mult[0]); i++)
      if (rate->avg > mult[i] || mult[i] / rate->avg < mult[i] % rate->avg) break;
    if (nftnl_expr* e = x.Add("limit")) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
      nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
      nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, mult[i - 1] / rate->avg);
      nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, mult[i - 1] / XT_LIMIT_SCALE);
      nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, rate->burst);
    }
    return true;
  }
  if (!strcmp(name, "udp")) {
    const auto* u = static_cast<const xt_udp*>(data);
    if (u->invflags > XT_UDP_INV_MASK || AllZeroPorts(*u)) return x.Compat("match", name, m->u.user.revision, data, size), true;
    if (proto != IPPROTO_UDP) {
      error = "the udp match needs -p udp";
      return false;
    }
    x.Ports(u->spts, u->invflags & XT_UDP_INV_SRCPT, u->dpts, u->invflags & XT_UDP_INV_DSTPT);
    return true;
  }
  if (!strcmp(name, "tcp")) {
    const auto* t = static_cast<const xt_tcp*>(data);
    const uint8_t supported = XT_TCP_INV_SRCPT | XT_TCP_INV_DSTPT | XT_TCP_INV_FLAGS;
    if ((t->invflags & ~supported) || t->option || AllZeroPorts(*t))
      return x.Compat("match", name, m->u.user.revision, data, size), true;
    if (proto != IPPROTO_TCP) {
      error = "the tcp match needs -p tcp";
      return false;
    }
    if (t->flg_mask) {
      x.Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
      x.Bitwise(&t->flg_mask, 1);
      x.CmpOf<uint8_t>(t->invflags & XT_TCP_INV_FLAGS ? NFT_CMP_NEQ : NFT_CMP_EQ, t->flg_cmp);
    }
    x.Ports(t->spts, t->invflags & XT_TCP_INV_SRCPT, t->dpts, t->invflags & XT_TCP_INV_DSTPT);
    return true;
  }
  if (!strcmp(name, "mark")) {
    // (As iptables-nft: read as revision 1's layout, the one iptables writes.)
    const auto* mk = static_cast<const xt_mark_mtinfo1*>(data);
    x.Meta(NFT_META_MARK);
    if (mk->mask != 0xffffffff) x.Bitwise(&mk->mask, sizeof(uint32_t));
    x.CmpOf<uint32_t>(mk->invert ? NFT_CMP_NEQ : NFT_CMP_EQ, mk->mark);
    return true;
  }
  x.Compat("match", name, m->u.user.revision, data, size);
  return true;
}

void Verdict(Encoder& x, int verdict, const char* chain = nullptr) {
  if (nftnl_expr* e = x.Add("immediate")) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
    if (chain) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
  }
}

void AddTarget(Encoder& x, const Family& fam, const NftRuleSpec& spec) {
  const xt_entry_target* t = fam.target(spec.entry);
  const char* name = t->u.user.name;
  if (!spec.jump.empty()) return Verdict(x, fam.isGoto(spec.entry) ? NFT_GOTO : NFT_JUMP, spec.jump.c_str());
  int32_t v;
  bool named = VerdictOf(name, &v);
  if (!named && name[0] == '\0') {
    v = reinterpret_cast<const xt_standard_target*>(t)->verdict;
    if (v >= 0) return;  // no target: nothing (the rule falls through)
    named = true;
  }
  if (named) {
    if (v == kVerdictAccept) return Verdict(x, NF_ACCEPT);
    if (v == kVerdictDrop) return Verdict(x, NF_DROP);
    if (v == kVerdictReturn) return Verdict(x, NFT_RETURN);
    // QUEUE (and any other standard verdict): as iptables-nft, the target by
    // its name through nft_compat, which the kernel refuses.
    const char* label = v == kVerdictQueue ? "QUEUE" : name;
    return x.Compat("target", label, 0, t->data, t->u.target_size - sizeof(xt_entry_target));
  }
  if (!strcmp(name, "NFLOG")) {
    const auto* info = reinterpret_cast<const xt_nflog_info*>(t->data);
    if (nftnl_expr* e = x.Add("log")) {
      char prefix[sizeof(info->prefix) + 1] = {};
      memcpy(prefix, info->prefix, sizeof(info->prefix));
      if (prefix[0]) nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
      nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, info->group);
      if (info->flags & XT_NFLOG_F_COPY_LEN) nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, info->len);
      if (info->threshold) nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, info->threshold);
    }
    return;
  }
  if (!strcmp(name, "TRACE")) {
    if (nftnl_expr* e = x.Add("immediate")) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG32_01);
      nftnl_expr_set_u8(e, NFTNL_EXPR_IMM_DATA, 1);
    }
    if (nftnl_expr* e = x.Add("meta")) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_NFTRACE);
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG32_01);
    }
    return;
  }
  x.Compat("target", name, t->u.user.revision, t->data, t->u.target_size - sizeof(xt_entry_target));
}

uint32_t Op(uint8_t invflags, uint8_t flag) { return invflags & flag ? uint32_t{NFT_CMP_NEQ} : uint32_t{NFT_CMP_EQ}; }

bool Nonzero(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; i++)
    if (b[i]) return true;
  return false;
}

}  // namespace

bool EncodeNftRule(const Family& fam, const NftRuleSpec& spec, nftnl_rule* r, std::string& error) {
  Encoder x(r);
  // The header's fields, wherever the family keeps them (the inversion bits
  // are the same for both).
  static_assert(IP6T_INV_VIA_IN == IPT_INV_VIA_IN && IP6T_INV_VIA_OUT == IPT_INV_VIA_OUT &&
                IP6T_INV_SRCIP == IPT_INV_SRCIP && IP6T_INV_DSTIP == IPT_INV_DSTIP);
  const char *iniface, *outiface;
  const uint8_t *src, *smsk, *dst, *dmsk;
  uint32_t len, srcAt, dstAt;  // address length and offsets in the network header
  uint16_t proto;
  uint8_t inv;
  bool frag = false;
  if (fam.nfproto == NFPROTO_IPV4) {
    const ipt_ip& ip = reinterpret_cast<const ipt_entry*>(spec.entry)->ip;
    iniface = ip.iniface, outiface = ip.outiface, proto = ip.proto, inv = ip.invflags, frag = ip.flags & IPT_F_FRAG;
    src = reinterpret_cast<const uint8_t*>(&ip.src), smsk = reinterpret_cast<const uint8_t*>(&ip.smsk);
    dst = reinterpret_cast<const uint8_t*>(&ip.dst), dmsk = reinterpret_cast<const uint8_t*>(&ip.dmsk);
    len = 4, srcAt = 12, dstAt = 16;
  } else {
    const ip6t_ip6& ip = reinterpret_cast<const ip6t_entry*>(spec.entry)->ipv6;
    iniface = ip.iniface, outiface = ip.outiface, proto = ip.proto, inv = ip.invflags;
    src = ip.src.s6_addr, smsk = ip.smsk.s6_addr, dst = ip.dst.s6_addr, dmsk = ip.dmsk.s6_addr;
    len = 16, srcAt = 8, dstAt = 24;
  }
  if (iniface[0]) x.Interface(NFT_META_IIFNAME, iniface, Op(inv, IPT_INV_VIA_IN));
  if (outiface[0]) x.Interface(NFT_META_OIFNAME, outiface, Op(inv, IPT_INV_VIA_OUT));
  if (proto) {
    x.Meta(NFT_META_L4PROTO);
    x.CmpOf<uint8_t>(Op(inv, XT_INV_PROTO), static_cast<uint8_t>(proto));
  }
  if (Nonzero(src, len) || Nonzero(smsk, len) || (inv & IPT_INV_SRCIP)) x.Address(srcAt, src, smsk, len, Op(inv, IPT_INV_SRCIP));
  if (Nonzero(dst, len) || Nonzero(dmsk, len) || (inv & IPT_INV_DSTIP)) x.Address(dstAt, dst, dmsk, len, Op(inv, IPT_INV_DSTIP));
  if (frag) {
    // The 13 bits of the fragment offset: not zero, a fragment.
    x.Payload(NFT_PAYLOAD_NETWORK_HEADER, 6, 2);
    x.Bitwise("\x1f\xff", 2);
    x.CmpOf<uint16_t>(inv & IPT_INV_FRAG ? NFT_CMP_EQ : NFT_CMP_NEQ, 0);
  }
  nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_PROTO, proto);
  nftnl_rule_set_u32(r, NFTNL_RULE_COMPAT_FLAGS, inv & XT_INV_PROTO ? NFT_RULE_COMPAT_F_INV : 0);

  const char* p = spec.entry + fam.headerSize;
  const char* end = spec.entry + fam.targetOffset(spec.entry);
  while (p < end) {
    const auto* m = reinterpret_cast<const xt_entry_match*>(p);
    if (m->u.match_size < sizeof(xt_entry_match) || p + m->u.match_size > end) {
      error = "a malformed match";
      return false;
    }
    if (!AddMatch(x, m, proto, error)) return false;
    p += m->u.match_size;
  }
  // The counter before the action: after it, nf_tables would count each
  // packet in every rule it goes on to.
  if (nftnl_expr* e = x.Add("counter")) {
    nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, spec.counters.pcnt);
    nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, spec.counters.bcnt);
  }
  AddTarget(x, fam, spec);
  if (x.oom()) {
    error = "out of memory";
    return false;
  }
  return true;
}

}  // namespace iptc
