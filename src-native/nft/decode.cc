// An iptables-nft rule decoded into a kernel entry (see nft/decode.h): the
// expressions one by one, verdicts, nft_compat matches and targets, limit,
// NFLOG, the comment in the rule's user data, and the entry made at the end.
// The header and transport compares are in decode_header.cc and
// decode_transport.cc.
#include "nft/decoder.h"

#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_mark.h>
#include <string.h>

#include <algorithm>

namespace iptc {

namespace {
constexpr uint32_t kScale = 10000;  // XT_LIMIT_SCALE
}  // namespace

void NftDecoder::Run(nftnl_rule* r, NftDecoded& out) {
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

void NftDecoder::Fail(const std::string& why) {
  if (error_.empty()) error_ = why;
}

NftReg* NftDecoder::RegOf(uint32_t n) {
  // NFT_REG_1..4 are the 16-byte registers, NFT_REG32_00.. the 4-byte ones.
  if (n >= 32) {
    Fail("unknown register");
    return nullptr;
  }
  return &regs_[n];
}

void NftDecoder::Expression(nftnl_expr* e) {
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

void NftDecoder::Meta(nftnl_expr* e) {
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
    m.mask = s->bitwise ? s->mask32() : ~0u;
    SetTarget("MARK", 2, &m, sizeof(m));
    return;
  }
  Fail("meta set of a key iptables does not set");
}

void NftDecoder::Bitwise(nftnl_expr* e) {
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

void NftDecoder::Cmp(nftnl_expr* e) {
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

void NftDecoder::Immediate(nftnl_expr* e) {
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
void NftDecoder::Compat(nftnl_expr* e, uint16_t nameAttr, uint16_t revAttr, uint16_t infoAttr, bool match) {
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

void NftDecoder::Limit(nftnl_expr* e) {
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
void NftDecoder::Log(nftnl_expr* e) {
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

void NftDecoder::UserdataComment(nftnl_rule* r) {
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

NftMatchBlob& NftDecoder::NewMatch(const char* name, uint8_t revision, size_t size) {
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

void NftDecoder::SetTarget(const char* name, uint8_t revision, const void* data, size_t size) {
  if (!target_.empty()) return Fail("two targets");
  size_t total = XT_ALIGN(sizeof(xt_entry_target)) + XT_ALIGN(size);
  target_.assign(total, 0);
  auto* h = reinterpret_cast<xt_entry_target*>(target_.data());
  h->u.target_size = static_cast<uint16_t>(total);
  snprintf(h->u.user.name, sizeof(h->u.user.name), "%s", name);
  h->u.user.revision = revision;
  if (size) memcpy(target_.data() + XT_ALIGN(sizeof(xt_entry_target)), data, size);
}

void NftDecoder::Finish(NftDecoded& out) {
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

void DecodeNftRule(const Family& fam, nftnl_rule* r, NftDecoded& out) {
  out = NftDecoded();
  out.handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
  NftDecoder(fam).Run(r, out);
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
