#include "xt/print.h"

#include <arpa/inet.h>
#include <string.h>

#include "xt/xtables.h"

namespace iptc {

namespace {

// ---- the address part, as iptables' print_rule4 / print_rule6 ------------

// A prefix length, or the mask in full when it is no prefix.
void AppendMask4(std::string& s, uint32_t mask) {
  uint32_t h = ntohl(mask), bits = 0xfffffffeu;
  if (h == 0xffffffffu) {
    s += "32";
    return;
  }
  int i = 32;
  while (--i >= 0 && h != bits) bits <<= 1;
  if (i >= 0) {
    s += std::to_string(i);
    return;
  }
  char buf[INET_ADDRSTRLEN];
  s += inet_ntop(AF_INET, &mask, buf, sizeof(buf));
}

// The address part's fields, for rule objects: each NUL-terminated ("" when absent).
struct Head {
  std::string* fields = nullptr;
  uint8_t flags = 0;
  void Field(const std::string& s, size_t from) {
    if (!fields) return;
    fields->append(s, from, std::string::npos);
    fields->push_back('\0');
  }
  void None() {
    if (fields) fields->push_back('\0');
  }
};

void Addr4(std::string& s, char letter, const in_addr& a, const in_addr& m, bool inv, Head& h) {
  if (!m.s_addr && !inv && !a.s_addr) return h.None();
  char buf[INET_ADDRSTRLEN];
  s += inv ? " ! -" : " -";
  s += letter;
  s += ' ';
  size_t from = s.size();
  s += inet_ntop(AF_INET, &a, buf, sizeof(buf));
  s += '/';
  AppendMask4(s, m.s_addr);
  h.Field(s, from);
}

int MaskLength6(const in6_addr& m) {
  int bits = 0, i = 0;
  for (; i < 16 && m.s6_addr[i] == 0xff; i++) bits += 8;
  if (i < 16) {
    uint8_t x = m.s6_addr[i];
    int k = 0;
    while (k < 8 && (x & (0x80 >> k))) k++;
    if (static_cast<uint8_t>(x << k)) return -1;
    bits += k;
    for (i++; i < 16; i++)
      if (m.s6_addr[i]) return -1;
  }
  return bits;
}

void Addr6(std::string& s, char letter, const in6_addr& a, const in6_addr& m, bool inv, Head& h) {
  int l = MaskLength6(m);
  if (!inv && l == 0) return h.None();
  char buf[INET6_ADDRSTRLEN];
  s += inv ? " ! -" : " -";
  s += letter;
  s += ' ';
  size_t from = s.size();
  s += inet_ntop(AF_INET6, &a, buf, sizeof(buf));
  s += '/';
  if (l < 0)
    s += inet_ntop(AF_INET6, &m, buf, sizeof(buf));
  else
    s += std::to_string(l);
  h.Field(s, from);
}

void Iface(std::string& s, char letter, const char* name, const unsigned char* mask, bool inv, Head& h) {
  if (mask[0] == 0) return h.None();
  s += inv ? " ! -" : " -";
  s += letter;
  s += ' ';
  size_t from = s.size();
  for (int i = 0; i < IFNAMSIZ; i++) {
    if (mask[i] != 0) {
      if (name[i] != '\0') s += name[i];
    } else {
      if (name[i - 1] != '\0') s += '+';
      break;
    }
  }
  h.Field(s, from);
}

void Details(std::string& s, const char* in, const unsigned char* inMask, const char* out, const unsigned char* outMask,
             uint16_t proto, bool frag, uint8_t inv, Head& h) {
  Iface(s, 'i', in, inMask, inv & IPT_INV_VIA_IN, h);
  Iface(s, 'o', out, outMask, inv & IPT_INV_VIA_OUT, h);
  if (proto > 0) {
    if (inv & XT_INV_PROTO) s += " !";
    const char* name = xtg_proto_name(proto);
    s += " -p ";
    size_t from = s.size();
    s += name ? name : std::to_string(proto);
    h.Field(s, from);
  } else {
    h.None();
  }
  if (frag) s += (inv & IPT_INV_FRAG) ? " ! -f" : " -f";
}

// Flags of the address part for rule objects: which parts are negated, -f, -g.
enum : uint8_t { kInvSrc = 1, kInvDst = 2, kInvIn = 4, kInvOut = 8, kInvProto = 16, kFrag = 32, kInvFrag = 64, kGoto = 128 };

void AddressPart(const Family& fam, const char* e, std::string& s, Head& h) {
  if (fam.nfproto == NFPROTO_IPV4) {
    const ipt_ip& ip = reinterpret_cast<const ipt_entry*>(e)->ip;
    Addr4(s, 's', ip.src, ip.smsk, ip.invflags & IPT_INV_SRCIP, h);
    Addr4(s, 'd', ip.dst, ip.dmsk, ip.invflags & IPT_INV_DSTIP, h);
    Details(s, ip.iniface, ip.iniface_mask, ip.outiface, ip.outiface_mask, ip.proto, ip.flags & IPT_F_FRAG,
            ip.invflags, h);
    h.flags = ((ip.flags & IPT_F_FRAG) ? kFrag : 0) | ((ip.invflags & IPT_INV_FRAG) ? kInvFrag : 0);
  } else {
    const ip6t_ip6& ip = reinterpret_cast<const ip6t_entry*>(e)->ipv6;
    Addr6(s, 's', ip.src, ip.smsk, ip.invflags & IP6T_INV_SRCIP, h);
    Addr6(s, 'd', ip.dst, ip.dmsk, ip.invflags & IP6T_INV_DSTIP, h);
    Details(s, ip.iniface, ip.iniface_mask, ip.outiface, ip.outiface_mask, ip.proto, false, ip.invflags, h);
    h.flags = 0;
  }
  uint8_t inv = static_cast<const uint8_t*>(static_cast<const void*>(e))[fam.invflagsAt];
  h.flags |= ((inv & IPT_INV_SRCIP) ? kInvSrc : 0) | ((inv & IPT_INV_DSTIP) ? kInvDst : 0) |
             ((inv & IPT_INV_VIA_IN) ? kInvIn : 0) | ((inv & IPT_INV_VIA_OUT) ? kInvOut : 0) |
             ((inv & XT_INV_PROTO) ? kInvProto : 0) | (fam.isGoto(e) ? kGoto : 0);
}

// ---- a batch ---------------------------------------------------------------

// How a rule's target prints: nullptr for an extension target, else the
// verdict or chain name ("" for none), as libiptc's iptc_get_target names it.
const char* StandardName(const Family& fam, const Plan& plan, const PlanRule& r, const char* e) {
  const xt_entry_target* t = fam.target(e);
  int32_t v;
  if (r.jump >= 0 && static_cast<size_t>(r.jump) < plan.chains.size()) return plan.chains[r.jump].name.c_str();
  if (VerdictOf(t->u.user.name, &v)) return VerdictName(v);
  if (t->u.user.name[0] != '\0') return nullptr;
  memcpy(&v, t->data, sizeof(v));
  const char* name = VerdictName(v);
  return name ? name : "";
}

// Starts capturing what extensions print (call with the XtGuard held).
bool BeginCapture(Failure& failure, char (&err)[XTG_ERRLEN]) {
  if (xtg_describe_begin(err, sizeof(err)) == 0) return true;
  failure.set("ERR_IPTC_DECODE", err);
  return false;
}

// Prints every rule, then calls `each(rule index, entry, spec, matches, extension target?, address flags)`;
// with `head`, the address part's fields are added to it too.
template <typename Each>
bool PrintAll(const Family& fam, const Plan& plan, Failure& failure, xtg_buf& text, std::string* head, Each each) {
  XtGuard guard(failure);
  char err[XTG_ERRLEN];
  if (!guard.ok() || !BeginCapture(failure, err)) return false;
  // Fields of one rule are read back from the capture stream, which grows:
  // note where each rule's begin, and assemble its spec after it is printed.
  xtg_buf fields{};
  bool ok = true;
  std::vector<size_t> at;
  std::vector<int> matches;
  std::vector<const char*> standard;
  at.reserve(plan.rules.size() + 1);
  for (size_t i = 0; i < plan.rules.size(); i++) {
    const char* e = plan.Entry(fam, plan.rules[i]);
    if (!e) {
      failure.set("ERR_IPTC_DECODE", "a rule's entry is not where the plan says");
      ok = false;
      break;
    }
    const char* name = StandardName(fam, plan, plan.rules[i], e);
    int n = xtg_describe_entry(fam.nfproto, e, name, err, sizeof(err));
    if (n < 0) {
      failure.set("ERR_IPTC_DECODE", err);
      failure.index = static_cast<int>(i);
      ok = false;
      break;
    }
    matches.push_back(n);
    standard.push_back(name);
  }
  xtg_describe_end(&fields);
  if (!ok) {
    xtg_buf_free(&fields);
    return false;
  }
  // Walk the fields: per rule, n matches (name, save), then the target.
  const char* p = fields.data ? fields.data : "";
  const char* end = p + fields.len;
  auto next = [&]() {
    const char* s = p;
    while (p < end && *p) p++;
    std::pair<const char*, size_t> f{s, static_cast<size_t>(p - s)};
    if (p < end) p++;
    return f;
  };
  std::string spec;
  for (size_t i = 0; i < matches.size(); i++) {
    const char* e = plan.Entry(fam, plan.rules[i]);
    spec.clear();
    Head h;
    h.fields = head;
    AddressPart(fam, e, spec, h);
    for (int m = 0; m < matches[i]; m++) {
      auto name = next();
      auto save = next();
      spec += " -m ";
      spec.append(name.first, name.second);
      spec.append(save.first, save.second);
    }
    auto tname = next();
    auto tsave = next();
    if (!standard[i]) {
      spec += " -j ";
      spec.append(tname.first, tname.second);
      spec.append(tsave.first, tsave.second);
    } else if (tname.second) {
      spec += fam.isGoto(e) ? " -g " : " -j ";
      spec.append(tname.first, tname.second);
    }
    each(i, e, spec, matches[i], !standard[i], h.flags);
  }
  text = fields;
  return true;
}

xt_counters Shown(const Family& fam, const PlanRule& r, const char* e) {
  return r.mode == kCountersSinceRead ? xt_counters{} : fam.counters(e);
}

}  // namespace

bool DescribeRules(const Family& fam, const Plan& plan, Described& out, Failure& failure) {
  size_t n = plan.rules.size();
  out.counters.reserve(2 * n);
  return PrintAll(fam, plan, failure, out.text, &out.head,
                  [&](size_t i, const char* e, const std::string& spec, int matches, bool extension, uint8_t flags) {
                    out.headFlags.push_back(flags);
                    out.specs += spec;
                    out.specs += '\0';
                    xt_counters c = Shown(fam, plan.rules[i], e);
                    out.counters.push_back(c.pcnt);
                    out.counters.push_back(c.bcnt);
                    out.matchCounts.push_back(static_cast<uint32_t>(matches));
                    out.targetKinds.push_back(extension ? 1 : 0);
                  });
}

bool SaveRules(const Family& fam, const Plan& plan, bool counters, std::string& out, Failure& failure) {
  std::vector<const std::string*> chainOf(plan.rules.size());
  for (size_t c = 0, r = 0; c < plan.chains.size(); c++)
    for (uint32_t k = 0; k < plan.chains[c].count && r < chainOf.size(); k++) chainOf[r++] = &plan.chains[c].name;
  xtg_buf text{};
  char num[48];
  bool ok = PrintAll(fam, plan, failure, text, nullptr,
                     [&](size_t i, const char* e, const std::string& spec, int, bool, uint8_t) {
                       if (counters) {
                         xt_counters c = Shown(fam, plan.rules[i], e);
                         snprintf(num, sizeof(num), "[%llu:%llu] ", static_cast<unsigned long long>(c.pcnt),
                                  static_cast<unsigned long long>(c.bcnt));
                         out += num;
                       }
                       out += "-A ";
                       out += chainOf[i] ? *chainOf[i] : std::string();
                       out += spec;
                       out += '\n';
                     });
  xtg_buf_free(&text);
  return ok;
}

namespace {

// Printed text as a JS string. Nearly always ASCII, which V8 takes as a
// plain copy (latin1); only text with other bytes (a comment in UTF-8) pays
// for UTF-8 decoding, which for a whole table costs as much as printing it.
Napi::String TextToJs(Napi::Env env, const char* data, size_t len) {
  uint64_t high = 0, w;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    memcpy(&w, data + i, 8);
    high |= w;
  }
  for (; i < len; i++) high |= static_cast<unsigned char>(data[i]);
  if (high & 0x8080808080808080ULL) return Napi::String::New(env, data, len);
  napi_value v;
  NAPI_THROW_IF_FAILED(env, napi_create_string_latin1(env, data, len, &v), Napi::String());
  return Napi::String(env, v);
}

Napi::String TextToJs(Napi::Env env, const std::string& s) { return TextToJs(env, s.data(), s.size()); }

// What every printing call takes: (family, plan), the plan's buffers kept
// referenced while it is read.
struct PlanArgs {
  explicit PlanArgs(const Napi::CallbackInfo& info) : fam(FamilyFor(info[0].As<Napi::String>())) {
    ReadPlan(info.Env(), info[1].As<Napi::Object>(), plan, keep);
  }
  const Family& fam;
  Plan plan;
  std::vector<Napi::Reference<Napi::Value>> keep;
};

}  // namespace

Napi::Value DescribeRulesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PlanArgs a(info);
  Described d;
  Failure failure;
  if (!a.plan.Expand(failure) || !DescribeRules(a.fam, a.plan, d, failure)) Throw(env, failure);
  Napi::Object o = Napi::Object::New(env);
  o.Set("specs", TextToJs(env, d.specs));
  auto ab = Napi::ArrayBuffer::New(env, d.counters.size() * sizeof(uint64_t));
  if (!d.counters.empty()) memcpy(ab.Data(), d.counters.data(), d.counters.size() * sizeof(uint64_t));
  o.Set("counters", Napi::TypedArrayOf<uint64_t>::New(env, d.counters.size(), ab, 0, napi_biguint64_array));
  auto mc = Napi::Uint32Array::New(env, d.matchCounts.size());
  if (!d.matchCounts.empty()) memcpy(mc.Data(), d.matchCounts.data(), d.matchCounts.size() * sizeof(uint32_t));
  o.Set("matchCounts", mc);
  auto tk = Napi::Uint8Array::New(env, d.targetKinds.size());
  if (!d.targetKinds.empty()) memcpy(tk.Data(), d.targetKinds.data(), d.targetKinds.size());
  o.Set("targetKinds", tk);
  o.Set("text", TextToJs(env, d.text.data ? d.text.data : "", d.text.len));
  o.Set("head", TextToJs(env, d.head));
  auto hf = Napi::Uint8Array::New(env, d.headFlags.size());
  if (!d.headFlags.empty()) memcpy(hf.Data(), d.headFlags.data(), d.headFlags.size());
  o.Set("headFlags", hf);
  return o;
}

Napi::Value SaveRulesJs(const Napi::CallbackInfo& info) {
  PlanArgs a(info);
  std::string out;
  Failure failure;
  if (!a.plan.Expand(failure) || !SaveRules(a.fam, a.plan, info[2].ToBoolean(), out, failure)) Throw(info.Env(), failure);
  return TextToJs(info.Env(), out);
}

bool ListRules(const Family& fam, const Plan& plan, std::string& text, std::string& targets, std::vector<uint16_t>& protos,
               Failure& failure) {
  XtGuard guard(failure);
  char err[XTG_ERRLEN];
  if (!guard.ok() || !BeginCapture(failure, err)) return false;
  bool ok = true;
  protos.reserve(plan.rules.size());
  for (size_t i = 0; i < plan.rules.size() && ok; i++) {
    const char* e = plan.Entry(fam, plan.rules[i]);
    if (!e) {
      failure.set("ERR_IPTC_DECODE", "a rule's entry is not where the plan says");
      ok = false;
    } else if (const char* standard = StandardName(fam, plan, plan.rules[i], e);
               xtg_list_entry(fam.nfproto, e, standard != nullptr, err, sizeof(err)) < 0) {
      failure.set("ERR_IPTC_DECODE", err);
      failure.index = static_cast<int>(i);
      ok = false;
    } else {
      uint16_t proto;
      memcpy(&proto, e + fam.protoAt, sizeof(proto));
      protos.push_back(proto);
      // -L names an extension target by the kernel's name (CT, not its alias NOTRACK).
      if (!standard) targets += fam.target(e)->u.user.name;
      targets += '\0';
    }
  }
  xtg_buf out{};
  xtg_describe_end(&out);
  if (ok && out.data) text.assign(out.data, out.len);
  xtg_buf_free(&out);
  return ok;
}

Napi::Value ListRulesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PlanArgs a(info);
  std::string text, targets;
  std::vector<uint16_t> protos;
  Failure failure;
  if (!a.plan.Expand(failure) || !ListRules(a.fam, a.plan, text, targets, protos, failure)) Throw(env, failure);
  Napi::Object o = Napi::Object::New(env);
  o.Set("text", TextToJs(env, text));
  o.Set("targets", Napi::String::New(env, targets));
  auto p = Napi::Uint16Array::New(env, protos.size());
  if (!protos.empty()) memcpy(p.Data(), protos.data(), protos.size() * sizeof(uint16_t));
  o.Set("protos", p);
  return o;
}

}  // namespace iptc
