// The ip header part of an iptables-nft rule (see nft/decoder.h): meta
// compares (interfaces by name or index, layer 4 protocol, mark, pkttype) and
// network header compares (addresses with their masks, protocol, fragment),
// as iptables-nft reads them back.
#include "nft/decoder.h"

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_pkttype.h>
#include <net/if.h>
#include <string.h>

#include <algorithm>

namespace iptc {

// As iptables-nft: an exact name with its NUL, or a prefix (a '+' added).
void NftDecoder::Ifname(const char* name, uint32_t len, char* dst, unsigned char* mask) {
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
void NftDecoder::InvalidIface(char* iface, unsigned char* mask, uint8_t& inv, uint8_t bit) {
  if ((inv & bit) || strcmp(iface, "INVAL/D") != 0) return;
  inv |= bit;
  iface[0] = '+';
  iface[1] = '\0';
  memset(mask, 0, IFNAMSIZ);
  mask[0] = mask[1] = 0xff;
}

void NftDecoder::MetaCmp(const Reg& r, nftnl_expr* e, bool neq) {
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
      m->mask = r.bitwise ? r.mask32() : ~0u;
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

void NftDecoder::NetworkCmp(const Reg& r, nftnl_expr* e, bool neq) {
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

}  // namespace iptc
