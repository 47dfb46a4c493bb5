#include "nft/decode.h"

#include <endian.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_pkttype.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <net/if.h>
#include <string.h>

#include <algorithm>

namespace iptc {

namespace {

// What a register holds, as far as the reader follows it.
struct Reg {
  enum Kind { kNone, kMeta, kPayload, kImmediate } kind = kNone;
  uint32_t key = 0;                  // meta key
  uint32_t base = 0, offset = 0, len = 0;  // payload
  bool bitwise = false;
  uint8_t mask[16]{};
  uint8_t data[16]{};                // immediate
};

// One match being made: its blob (xt_entry_match header and data).
struct Match {
  std::vector<char> blob;
  template <typename T>
  T* data() { return reinterpret_cast<T*>(blob.data() + XT_ALIGN(sizeof(xt_entry_match))); }
};

constexpr uint32_t kScale = 10000;  // XT_LIMIT_SCALE

class Decoder {
 public:
  Decoder(const Family& fam)
      : fam_(fam), v4_(fam.nfproto == NFPROTO_IPV4), head_(fam.headerSize, 0),
        e4_(reinterpret_cast<ipt_entry*>(head_.data())), e6_(reinterpret_cast<ip6t_entry*>(head_.data())) {}

  void Run(nftnl_rule* r, NftDecoded& out) {
    nftnl_expr_iter* it = nftnl_expr_iter_create(r);
    if (!it) {
      Fail("out of memory");
    } else {
      for (nftnl_expr* e = nftnl_expr_iter_next(it); e; e = nftnl_expr_iter_next(it)) Expression(e);
      nftnl_expr_iter_destroy(it);
    }
    UserdataComment(r);
    if (!error_.empty()) {
      out.error = error_;
      return;
    }
    Finish(out);
  }

 private:
  void Fail(const std::string& why) {
    if (error_.empty()) error_ = why;
  }

  Reg* RegOf(uint32_t n) {
    // NFT_REG_1..4 are the 16-byte registers, NFT_REG32_00.. the 4-byte ones.
    if (n >= 32) {
      Fail("unknown register");
      return nullptr;
    }
    return &regs_[n];
  }

  void Expression(nftnl_expr* e) {
    const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    if (!strcmp(name, "counter")) {
      counters_.pcnt = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
      counters_.bcnt = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
    } else if (!strcmp(name, "payload")) {
      if (nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG)) return Fail("payload write (not iptables')");
      if (Reg* d = RegOf(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG))) {
        *d = Reg();
        d->kind = Reg::kPayload;
        d->base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
        d->offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
        d->len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
      }
    } else if (!strcmp(name, "meta")) {
      Meta(e);
    } else if (!strcmp(name, "bitwise")) {
      Bitwise(e);
    } else if (!strcmp(name, "cmp")) {
      Cmp(e);
    } else if (!strcmp(name, "range")) {
      Range(e);
    } else if (!strcmp(name, "immediate")) {
      Immediate(e);
    } else if (!strcmp(name, "match")) {
      Compat(e, NFTNL_EXPR_MT_NAME, NFTNL_EXPR_MT_REV, NFTNL_EXPR_MT_INFO, true);
    } else if (!strcmp(name, "target")) {
      Compat(e, NFTNL_EXPR_TG_NAME, NFTNL_EXPR_TG_REV, NFTNL_EXPR_TG_INFO, false);
    } else if (!strcmp(name, "limit")) {
      Limit(e);
    } else if (!strcmp(name, "log")) {
      Log(e);
    } else if (!strcmp(name, "lookup")) {
      // iptables-nft ignores set lookups in ip/ip6 rules, and would print
      // the rule without them: a different rule. Say so instead.
      Fail("a set lookup (not iptables'; use nft)");
    } else {
      Fail(std::string("the expression '") + name + "' (not iptables'; use nft)");
    }
  }

  void Meta(nftnl_expr* e) {
    uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
    if (nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
      if (Reg* d = RegOf(nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG))) {
        *d = Reg();
        d->kind = Reg::kMeta;
        d->key = key;
      }
      return;
    }
    // meta set: TRACE (meta nftrace set 1), MARK (meta mark set, 1.8.10+).
    Reg* s = RegOf(nftnl_expr_get_u32(e, NFTNL_EXPR_META_SREG));
    if (!s) return;
    if (s->kind != Reg::kImmediate) return Fail("meta set from something not an immediate");
    if (key == NFT_META_NFTRACE) {
      if (!s->data[0]) return Fail("trace is cleared");
      SetTarget("TRACE", 0, nullptr, 0);
      return;
    }
    if (key == NFT_META_MARK) {
      xt_mark_tginfo2 m{};
      memcpy(&m.mark, s->data, sizeof(m.mark));
      m.mask = s->bitwise ? *reinterpret_cast<const uint32_t*>(s->mask) : ~0u;
      SetTarget("MARK", 2, &m, sizeof(m));
      return;
    }
    Fail("meta set of a key iptables does not set");
  }

  void Bitwise(nftnl_expr* e) {
    Reg* s = RegOf(nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
    Reg* d = RegOf(nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG));
    if (!s || !d) return;
    uint32_t mlen = 0, xlen = 0;
    const void* mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &mlen);
    const void* x = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &xlen);
    if (!mask || mlen > sizeof(d->mask)) return Fail("bitwise mask too large");
    if (x && xlen > sizeof(d->mask)) return Fail("bitwise xor too large");
    if (x) {
      for (uint32_t i = 0; i < xlen; i++)
        if (static_cast<const uint8_t*>(x)[i]) return Fail("bitwise xor (not iptables')");
    }
    if (d != s) *d = *s;
    memset(d->mask, 0, sizeof(d->mask));
    memcpy(d->mask, mask, mlen);
    d->bitwise = true;
  }

  // ---- the ip header ------------------------------------------------------------

  char* Iniface() { return v4_ ? e4_->ip.iniface : e6_->ipv6.iniface; }
  char* Outiface() { return v4_ ? e4_->ip.outiface : e6_->ipv6.outiface; }
  unsigned char* InMask() { return v4_ ? e4_->ip.iniface_mask : e6_->ipv6.iniface_mask; }
  unsigned char* OutMask() { return v4_ ? e4_->ip.outiface_mask : e6_->ipv6.outiface_mask; }
  uint8_t& Invflags() { return v4_ ? e4_->ip.invflags : e6_->ipv6.invflags; }
  uint8_t& Flags() { return v4_ ? e4_->ip.flags : e6_->ipv6.flags; }
  uint16_t& Proto() { return v4_ ? e4_->ip.proto : e6_->ipv6.proto; }

  // As iptables-nft: an exact name with its NUL, or a prefix (a '+' added).
  static void Ifname(const char* name, uint32_t len, char* dst, unsigned char* mask) {
    if (len == 0) return;
    len = std::min<uint32_t>(len, IFNAMSIZ);
    memcpy(dst, name, len);
    if (name[len - 1] == '\0') {
      memset(mask, 0xff, std::min<size_t>(strnlen(dst, IFNAMSIZ) + 1, IFNAMSIZ));
      return;
    }
    if (len >= IFNAMSIZ) return;
    dst[len++] = '+';
    if (len >= IFNAMSIZ) return;
    dst[len++] = 0;
    memset(mask, 0xff, len - 2);
  }

  // "! -i +" is written as a compare with the name "INVAL/D".
  static void InvalidIface(char* iface, unsigned char* mask, uint8_t& inv, uint8_t bit) {
    if ((inv & bit) || strcmp(iface, "INVAL/D") != 0) return;
    inv |= bit;
    iface[0] = '+';
    iface[1] = '\0';
    memset(mask, 0, IFNAMSIZ);
    mask[0] = mask[1] = 0xff;
  }

  void MetaCmp(const Reg& r, nftnl_expr* e, bool neq) {
    uint32_t len = 0;
    const char* data = static_cast<const char*>(nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len));
    switch (r.key) {
      case NFT_META_L4PROTO:
        Proto() = nftnl_expr_get_u8(e, NFTNL_EXPR_CMP_DATA);
        if (neq) Invflags() |= XT_INV_PROTO;
        if (!v4_ && Proto()) Flags() |= IP6T_F_PROTO;
        return;
      case NFT_META_IIFNAME:
        if (neq) Invflags() |= IPT_INV_VIA_IN;
        Ifname(data, len, Iniface(), InMask());
        InvalidIface(Iniface(), InMask(), Invflags(), IPT_INV_VIA_IN);
        return;
      case NFT_META_OIFNAME:
        if (neq) Invflags() |= IPT_INV_VIA_OUT;
        Ifname(data, len, Outiface(), OutMask());
        InvalidIface(Outiface(), OutMask(), Invflags(), IPT_INV_VIA_OUT);
        return;
      case NFT_META_IIF:
      case NFT_META_OIF: {
        char* dst = r.key == NFT_META_IIF ? Iniface() : Outiface();
        if (neq) Invflags() |= r.key == NFT_META_IIF ? IPT_INV_VIA_IN : IPT_INV_VIA_OUT;
        if (!if_indextoname(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_DATA), dst)) return Fail("an interface index with no name");
        memset(r.key == NFT_META_IIF ? InMask() : OutMask(), 0xff, strlen(dst) + 1);
        return;
      }
      case NFT_META_MARK: {
        xt_mark_mtinfo1* m = NewMatch("mark", 1, sizeof(xt_mark_mtinfo1)).data<xt_mark_mtinfo1>();
        m->invert = neq;
        m->mark = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_DATA);
        m->mask = r.bitwise ? *reinterpret_cast<const uint32_t*>(r.mask) : ~0u;
        return;
      }
      case NFT_META_PKTTYPE: {
        xt_pkttype_info* p = NewMatch("pkttype", 0, sizeof(xt_pkttype_info)).data<xt_pkttype_info>();
        p->invert = neq;
        p->pkttype = nftnl_expr_get_u8(e, NFTNL_EXPR_CMP_DATA);
        return;
      }
      default:
        return Fail(v4_ ? "unknown ipv4 meta key" : "unknown ipv6 meta key");
    }
  }

  void NetworkCmp(const Reg& r, nftnl_expr* e, bool neq) {
    uint32_t len = 0;
    const uint8_t* data = static_cast<const uint8_t*>(nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len));
    size_t asize = v4_ ? 4 : 16;
    auto address = [&](void* addr, void* mask, uint8_t invbit) {
      memset(addr, 0, asize);
      memcpy(addr, data, std::min<size_t>(len, asize));
      if (r.bitwise) memcpy(mask, r.mask, asize);
      else memset(mask, 0xff, std::min<size_t>(r.len, asize));
      if (neq) Invflags() |= invbit;
    };
    if (v4_) {
      switch (r.offset) {
        case 12: return address(&e4_->ip.src, &e4_->ip.smsk, IPT_INV_SRCIP);
        case 16: return address(&e4_->ip.dst, &e4_->ip.dmsk, IPT_INV_DSTIP);
        case 9:
          Proto() = len ? data[0] : 0;
          if (neq) Invflags() |= XT_INV_PROTO;
          return;
        case 6:
          Flags() |= IPT_F_FRAG;
          if (r.bitwise && nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) == NFT_CMP_EQ) Invflags() |= IPT_INV_FRAG;
          return;
        default: return Fail("unknown payload offset (a ttl or another ip header field)");
      }
    }
    switch (r.offset) {
      case 8: return address(&e6_->ipv6.src, &e6_->ipv6.smsk, IP6T_INV_SRCIP);
      case 24: return address(&e6_->ipv6.dst, &e6_->ipv6.dmsk, IP6T_INV_DSTIP);
      case 6:
        Proto() = len ? data[0] : 0;
        if (Proto()) Flags() |= IP6T_F_PROTO;
        if (neq) Invflags() |= XT_INV_PROTO;
        return;
      default: return Fail("unknown payload offset (a hop limit or another ipv6 header field)");
    }
  }

  // ---- transport header: tcp/udp ports and flags, icmp ------------------------

  // The rule's one tcp or udp match (made at its first expression).
  template <typename T>
  T* TcpUdp(const char* name) {
    if (tcpudp_ < 0) {
      tcpudp_ = static_cast<int>(matches_.size());
      T* t = NewMatch(name, 0, sizeof(T)).template data<T>();
      t->spts[1] = t->dpts[1] = 0xffff;
    }
    return matches_[tcpudp_].data<T>();
  }

  template <typename T>
  void Ports(int sport, int dport, uint32_t op, uint8_t sinv, uint8_t dinv, const char* name) {
    T* t = TcpUdp<T>(name);
    auto one = [&](uint16_t* pts, int port, uint8_t inv) {
      if (port < 0) return;
      switch (op) {
        case NFT_CMP_NEQ: t->invflags |= inv; /* fall through */
        case NFT_CMP_EQ: pts[0] = pts[1] = port; break;
        case NFT_CMP_LT: pts[1] = std::max(port - 1, 1); break;
        case NFT_CMP_LTE: pts[1] = port; break;
        case NFT_CMP_GT: pts[0] = std::min(port + 1, 0xffff); break;
        case NFT_CMP_GTE: pts[0] = port; break;
      }
    };
    one(t->spts, sport, sinv);
    one(t->dpts, dport, dinv);
  }

  void PortCmp(int sport, int dport, uint32_t op) {
    if (Proto() == IPPROTO_TCP) Ports<xt_tcp>(sport, dport, op, XT_TCP_INV_SRCPT, XT_TCP_INV_DSTPT, "tcp");
    else if (Proto() == IPPROTO_UDP) Ports<xt_udp>(sport, dport, op, XT_UDP_INV_SRCPT, XT_UDP_INV_DSTPT, "udp");
    else Fail("unknown layer 4 protocol for a port match");
  }

  void TransportCmp(const Reg& r, nftnl_expr* e, uint32_t op) {
    uint32_t len = 0;
    const uint8_t* data = static_cast<const uint8_t*>(nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len));
    uint8_t proto = static_cast<uint8_t>(Proto());
    if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) return Icmp(r, data, len);
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return Fail("unsupported layer 4 protocol value");
    uint16_t port;
    switch (r.offset) {
      case 0:
        if (len == 2) {
          memcpy(&port, data, 2);
          return PortCmp(be16toh(port), -1, op);
        }
        if (len == 4) {
          uint32_t both;
          memcpy(&both, data, 4);
          both = be32toh(both);
          return PortCmp(both >> 16, both & 0xffff, op);
        }
        return Fail("unexpected RHS data length");
      case 2:
        if (len != 2) return Fail("unexpected RHS data length");
        memcpy(&port, data, 2);
        return PortCmp(-1, be16toh(port), op);
      case 13:
        if (len == 1 && proto == IPPROTO_TCP) {
          xt_tcp* t = TcpUdp<xt_tcp>("tcp");
          if (op == NFT_CMP_NEQ) t->invflags |= XT_TCP_INV_FLAGS;
          t->flg_cmp = data[0];
          t->flg_mask = r.bitwise ? r.mask[0] : 0xff;
        }
        return;
      default:
        return Fail("unexpected transport header offset");
    }
  }

  void Icmp(const Reg& r, const uint8_t* data, uint32_t len) {
    struct {
      uint8_t type, code[2], invflags;
    } icmp = {0xff, {0, 0xff}, 0};
    if (len < 1) return Fail("unexpected RHS data length");
    switch (r.offset) {
      case 0:
        icmp.type = data[0];
        if (len == 1) break;
        len--;
        data++;
        /* fall through */
      case 1:
        if (len > 1) return Fail("unexpected RHS data length");
        icmp.code[0] = icmp.code[1] = data[0];
        break;
      default:
        return Fail("unexpected payload offset");
    }
    if (!v4_ && icmp.type == 0xff) return Fail("icmp6 code with any type match not supported");
    memcpy(NewMatch(v4_ ? "icmp" : "icmp6", 0, sizeof(icmp)).data<uint8_t>(), &icmp, sizeof(icmp));
  }

  void Cmp(nftnl_expr* e) {
    Reg* s = RegOf(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
    if (!s) return;
    uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
    bool neq = op == NFT_CMP_NEQ;
    switch (s->kind) {
      case Reg::kMeta: return MetaCmp(*s, e, neq);
      case Reg::kPayload:
        if (s->base == NFT_PAYLOAD_NETWORK_HEADER) return NetworkCmp(*s, e, neq);
        if (s->base == NFT_PAYLOAD_TRANSPORT_HEADER) return TransportCmp(*s, e, op);
        return Fail("a link-layer header compare (not iptables')");
      default: return Fail("cmp sreg undef");
    }
  }

  void Range(nftnl_expr* e) {
    Reg* s = RegOf(nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG));
    if (!s) return;
    if (s->kind != Reg::kPayload || s->base != NFT_PAYLOAD_TRANSPORT_HEADER) return Fail("range with unknown payload base");
    uint32_t flen = 0, tlen = 0;
    const void* from = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &flen);
    const void* to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &tlen);
    if (flen != 2 || tlen != 2) return Fail("range sreg type unsupported");
    uint16_t lo, hi;
    memcpy(&lo, from, 2);
    memcpy(&hi, to, 2);
    lo = be16toh(lo);
    hi = be16toh(hi);
    bool neq = nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) == NFT_RANGE_NEQ;
    auto set = [&](auto* t, uint8_t sinv, uint8_t dinv) {
      if (s->offset == 0) {
        t->spts[0] = lo;
        t->spts[1] = hi;
        if (neq) t->invflags |= sinv;
      } else if (s->offset == 2) {
        t->dpts[0] = lo;
        t->dpts[1] = hi;
        if (neq) t->invflags |= dinv;
      }
    };
    if (Proto() == IPPROTO_TCP) set(TcpUdp<xt_tcp>("tcp"), XT_TCP_INV_SRCPT, XT_TCP_INV_DSTPT);
    else if (Proto() == IPPROTO_UDP) set(TcpUdp<xt_udp>("udp"), XT_UDP_INV_SRCPT, XT_UDP_INV_DSTPT);
  }

  // ---- verdicts, targets, matches ------------------------------------------------

  void Immediate(nftnl_expr* e) {
    uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG);
    if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) {
      uint32_t len = 0;
      const void* d = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);
      Reg* r = RegOf(dreg);
      if (!r) return;
      if (len > sizeof(r->data)) return Fail("oversized immediate data");
      *r = Reg();
      r->kind = Reg::kImmediate;
      memcpy(r->data, d, len);
      return;
    }
    if (dreg != NFT_REG_VERDICT) return Fail("an immediate with no data");
    int32_t v = static_cast<int32_t>(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
    switch (v) {
      case NF_ACCEPT: verdict_ = kVerdictAccept; break;
      case NF_DROP: verdict_ = kVerdictDrop; break;
      case NFT_RETURN: verdict_ = kVerdictReturn; break;
      case NFT_GOTO: Flags() |= fam_.gotoFlag; /* fall through */
      case NFT_JUMP: {
        const char* chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
        if (!chain) return Fail("a jump to no chain");
        jump_ = chain;
        verdict_ = 0;
        break;
      }
      default: return;  // as iptables-nft: other verdicts are not read
    }
    hasVerdict_ = true;
  }

  // A match or target carried as it is (nft_compat).
  void Compat(nftnl_expr* e, uint16_t nameAttr, uint16_t revAttr, uint16_t infoAttr, bool match) {
    const char* name = nftnl_expr_get_str(e, nameAttr);
    uint32_t len = 0;
    const void* info = nftnl_expr_get(e, infoAttr, &len);
    uint8_t rev = static_cast<uint8_t>(nftnl_expr_get_u32(e, revAttr));
    if (match) {
      Match& m = NewMatch(name, rev, len);
      if (len) memcpy(m.data<char>(), info, len);
      if (!strcmp(name, "tcp") || !strcmp(name, "udp")) {
        if (tcpudp_ < 0) tcpudp_ = static_cast<int>(matches_.size()) - 1;
      }
    } else {
      SetTarget(name, rev, info, len);
    }
  }

  void Limit(nftnl_expr* e) {
    if (nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_TYPE) != NFT_LIMIT_PKTS || nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_FLAGS) != 0)
      return Fail("a limit by bytes or inverted (not iptables')");
    uint64_t rate = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE);
    uint64_t unit = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT);
    if (!rate) return Fail("a limit of rate 0");
    xt_rateinfo* l = NewMatch("limit", 0, sizeof(xt_rateinfo)).data<xt_rateinfo>();
    l->avg = static_cast<uint32_t>(kScale * unit / rate);
    l->burst = nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_BURST);
  }

  // NFLOG, written as the log expression (with a group, always).
  void Log(nftnl_expr* e) {
    if (!nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP)) return Fail("a log without a group (not iptables'; use nft)");
    // iptables-nft reads prefixes of up to 127 characters into a longer
    // xt_nflog_info; one that fits the kernel's own is the legacy layout, so
    // that the rule is byte for byte what parsing its text gives.
    struct {
      uint32_t len;
      uint16_t group, threshold, flags, pad;
      char prefix[128];
    } info{};
    info.group = nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP);
    info.threshold = nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD);
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_SNAPLEN)) {
      info.len = nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_SNAPLEN);
      info.flags = XT_NFLOG_F_COPY_LEN;
    }
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX))
      snprintf(info.prefix, sizeof(info.prefix), "%s", nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX));
    size_t size = strlen(info.prefix) < sizeof(xt_nflog_info::prefix) ? sizeof(xt_nflog_info) : sizeof(info);
    SetTarget("NFLOG", 0, &info, size);
  }

  void UserdataComment(nftnl_rule* r) {
    if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) return;
    uint32_t len = 0;
    const void* data = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
    const char* comment = nullptr;
    nftnl_udata_parse(
        data, len,
        [](const nftnl_udata* a, void* p) -> int {
          if (nftnl_udata_type(a) != NFTNL_UDATA_RULE_COMMENT) return 0;
          const char* s = static_cast<const char*>(nftnl_udata_get(a));
          uint8_t n = nftnl_udata_len(a);
          if (n && s[n - 1] == '\0') *static_cast<const char**>(p) = s;
          return 0;
        },
        &comment);
    if (!comment) return;
    char* text = NewMatch("comment", 0, 256).data<char>();
    strncpy(text, comment, 255);
  }

  Match& NewMatch(const char* name, uint8_t revision, size_t size) {
    matches_.emplace_back();
    Match& m = matches_.back();
    size_t total = XT_ALIGN(sizeof(xt_entry_match)) + XT_ALIGN(size);
    m.blob.assign(total, 0);
    auto* h = reinterpret_cast<xt_entry_match*>(m.blob.data());
    h->u.match_size = static_cast<uint16_t>(total);
    snprintf(h->u.user.name, sizeof(h->u.user.name), "%s", name);
    h->u.user.revision = revision;
    return m;
  }

  void SetTarget(const char* name, uint8_t revision, const void* data, size_t size) {
    if (!target_.empty()) return Fail("two targets");
    size_t total = XT_ALIGN(sizeof(xt_entry_target)) + XT_ALIGN(size);
    target_.assign(total, 0);
    auto* h = reinterpret_cast<xt_entry_target*>(target_.data());
    h->u.target_size = static_cast<uint16_t>(total);
    snprintf(h->u.user.name, sizeof(h->u.user.name), "%s", name);
    h->u.user.revision = revision;
    if (size) memcpy(target_.data() + XT_ALIGN(sizeof(xt_entry_target)), data, size);
  }

  void Finish(NftDecoded& out) {
    if (!target_.empty() && hasVerdict_) return void(out.error = "a target and a verdict");
    if (target_.empty()) {
      // A verdict, a jump, or nothing (a verdict of 0: fall through).
      xt_standard_target st{};
      st.target.u.target_size = XT_ALIGN(sizeof(xt_standard_target));
      st.verdict = hasVerdict_ ? verdict_ : 0;
      target_.assign(reinterpret_cast<const char*>(&st), reinterpret_cast<const char*>(&st) + sizeof(st));
      target_.resize(XT_ALIGN(sizeof(xt_standard_target)), 0);
    }
    size_t matches = 0;
    for (const Match& m : matches_) matches += m.blob.size();
    size_t header = fam_.headerSize;
    size_t size = header + matches + target_.size();
    if (size > 0xffff) return void(out.error = "a rule too large for an entry");
    out.entry.assign(size, 0);
    char* p = out.entry.data();
    if (v4_) {
      e4_->target_offset = static_cast<uint16_t>(header + matches);
      e4_->next_offset = static_cast<uint16_t>(size);
      e4_->counters = counters_;
      memcpy(p, head_.data(), header);
    } else {
      e6_->target_offset = static_cast<uint16_t>(header + matches);
      e6_->next_offset = static_cast<uint16_t>(size);
      e6_->counters = counters_;
      memcpy(p, head_.data(), header);
    }
    p += header;
    for (const Match& m : matches_) {
      memcpy(p, m.blob.data(), m.blob.size());
      p += m.blob.size();
    }
    memcpy(p, target_.data(), target_.size());
    out.jump = jump_;
  }

  const Family& fam_;
  bool v4_;
  std::vector<char> head_;  // the entry's header (ipt_entry or ip6t_entry), by hand:
  ipt_entry* e4_;           // both end in a flexible array
  ip6t_entry* e6_;
  Reg regs_[32];
  std::vector<Match> matches_;
  int tcpudp_ = -1;
  std::vector<char> target_;
  bool hasVerdict_ = false;
  int32_t verdict_ = 0;
  std::string jump_;
  xt_counters counters_{};
  std::string error_;
};

}  // namespace

void DecodeNftRule(const Family& fam, nftnl_rule* r, NftDecoded& out) {
  out = NftDecoded();
  out.handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
  Decoder(fam).Run(r, out);
}

std::string DescribeNftRule(nftnl_rule* r) {
  char buf[4096];
  int n = nftnl_rule_snprintf(buf, sizeof(buf), r, NFTNL_OUTPUT_DEFAULT, 0);
  if (n < 0) return "";
  std::string s(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
  // One line: libnftnl puts each expression on its own.
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

}  // namespace iptc
