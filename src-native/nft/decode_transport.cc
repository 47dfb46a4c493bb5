// The transport header part of an iptables-nft rule (see nft/decoder.h):
// tcp and udp ports (single, ranges, both in one compare) and tcp flags, made
// into the rule's one tcp or udp match; icmp and icmpv6 type and code.
#include "nft/decoder.h"

#include <endian.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <string.h>

#include <algorithm>

namespace iptc {

// The rule's one tcp or udp match (made at its first expression).
template <typename T>
T* NftDecoder::TcpUdp(const char* name) {
  if (tcpudp_ < 0) {
    tcpudp_ = static_cast<int>(matches_.size());
    T* t = NewMatch(name, 0, sizeof(T)).template data<T>();
    t->spts[1] = t->dpts[1] = 0xffff;
  }
  return matches_[tcpudp_].data<T>();
}

template <typename T>
void NftDecoder::Ports(int sport, int dport, uint32_t op, uint8_t sinv, uint8_t dinv, const char* name) {
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

void NftDecoder::PortCmp(int sport, int dport, uint32_t op) {
  if (Proto() == IPPROTO_TCP) Ports<xt_tcp>(sport, dport, op, XT_TCP_INV_SRCPT, XT_TCP_INV_DSTPT, "tcp");
  else if (Proto() == IPPROTO_UDP) Ports<xt_udp>(sport, dport, op, XT_UDP_INV_SRCPT, XT_UDP_INV_DSTPT, "udp");
  else Fail("unknown layer 4 protocol for a port match");
}

void NftDecoder::TransportCmp(const Reg& r, nftnl_expr* e, uint32_t op) {
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

void NftDecoder::Icmp(const Reg& r, const uint8_t* data, uint32_t len) {
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

void NftDecoder::Range(nftnl_expr* e) {
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

}  // namespace iptc
