#include "xt/plan.h"

#include <algorithm>

namespace iptc {

const char* Plan::Entry(const Family& fam, const PlanRule& r) const {
  if (static_cast<int>(r.pool) == pendingPool) {
    // Pending rules are parsed one entry each (JavaScript parses at once any
    // rule that may make several): rule k is entry k.
    if (r.offset >= parsed.offsets.size()) return nullptr;
    return parsed.bytes.data() + parsed.offsets[r.offset];
  }
  if (r.pool >= pools.size()) return nullptr;
  const PlanPool& p = pools[r.pool];
  if (static_cast<size_t>(r.offset) + fam.headerSize > p.size) return nullptr;
  const char* e = p.bytes + r.offset;
  if (r.offset + fam.nextOffset(e) > p.size || fam.nextOffset(e) < fam.headerSize) return nullptr;
  return e;
}

bool Plan::Prepare(const Family& fam, const std::string& table, Failure& failure) {
  if (pendingPool >= 0) {
    if (!ParseBatch(fam, table, pending, parsed, failure)) return false;
    for (size_t i = 0; i < parsed.perRule.size(); i++) {
      if (parsed.perRule[i] != 1) {
        failure.set("ERR_IPTC_ARGUMENT", "a pending rule made several entries");
        failure.index = static_cast<int>(i);
        return false;
      }
    }
  }
  return Expand(failure);
}

std::string Plan::Warnings() const {
  std::string out;
  for (const std::string& w : parsed.warnings) out += w;
  return out;
}

bool Plan::Expand(Failure& failure) {
  size_t n = 0;
  for (size_t r = 0; r + 2 < runs.size(); r += 3) n += runs[r + 2];
  rules.clear();
  rules.reserve(n);
  for (size_t r = 0; r + 2 < runs.size(); r += 3) {
    uint32_t pool = runs[r], from = runs[r + 1], count = runs[r + 2];
    bool pending = static_cast<int>(pool) == pendingPool;
    if (pool >= pools.size() || (!pending && static_cast<size_t>(from) + count > pools[pool].count)) {
      failure.set("ERR_IPTC_ARGUMENT", "the plan names rules its pools do not hold");
      return false;
    }
    const PlanPool& p = pools[pool];
    for (uint32_t i = from; i < from + count; i++) {
      PlanRule pr;
      pr.pool = pool;
      pr.offset = pending ? i : p.offsets[i];
      if (p.entryIndex) {
        pr.oldIndex = p.entryIndex[i];
        pr.mode = pool == 0 && std::binary_search(zeroed.begin(), zeroed.end(), i) ? kCountersSinceRead : kCountersKept;
      }
      int32_t j = p.jumps && i < p.count ? p.jumps[i] : -1;
      pr.jump = j >= 0 && static_cast<size_t>(j) < chainIndex.size() ? chainIndex[j] : -1;
      rules.push_back(pr);
    }
  }
  return true;
}

template <typename T>
std::pair<const T*, size_t> View(Napi::Value v) {
  if (!v.IsTypedArray()) return {nullptr, 0};
  auto a = v.As<Napi::TypedArrayOf<T>>();
  return {a.Data(), a.ElementLength()};
}

void ReadPlan(Napi::Env env, Napi::Object o, Plan& plan, std::vector<Napi::Reference<Napi::Value>>& keep) {
  Napi::Array pools = o.Get("pools").As<Napi::Array>();
  plan.pools.resize(pools.Length());
  for (uint32_t i = 0; i < pools.Length(); i++) {
    Napi::Object p = pools.Get(i).As<Napi::Object>();
    keep.push_back(Napi::Persistent(Napi::Value(p)));
    PlanPool& pp = plan.pools[i];
    auto b = p.Get("bytes").As<Napi::Buffer<char>>();
    pp.bytes = b.Data();
    pp.size = b.Length();
    auto offsets = View<uint32_t>(p.Get("offsets"));
    auto jumps = View<int32_t>(p.Get("jumps"));
    auto entryIndex = View<uint32_t>(p.Get("entryIndex"));
    pp.offsets = offsets.first;
    pp.jumps = jumps.first;
    pp.count = std::min(offsets.first ? offsets.second : jumps.second, jumps.second);
    if (entryIndex.first && entryIndex.second >= pp.count) pp.entryIndex = entryIndex.first;
  }
  Napi::Array chains = o.Get("chains").As<Napi::Array>();
  plan.chains.resize(chains.Length());
  for (uint32_t i = 0; i < chains.Length(); i++) {
    Napi::Array c = chains.Get(i).As<Napi::Array>();
    PlanChain& pc = plan.chains[i];
    pc.name = c.Get(0u).As<Napi::String>();
    pc.hook = c.Get(1u).As<Napi::Number>().Int32Value();
    pc.policy = c.Get(2u).As<Napi::Number>().Int32Value();
    pc.policyMode = static_cast<uint8_t>(c.Get(3u).As<Napi::Number>().Uint32Value());
    bool lossless;
    pc.policyCounters.pcnt = c.Get(4u).As<Napi::BigInt>().Uint64Value(&lossless);
    pc.policyCounters.bcnt = c.Get(5u).As<Napi::BigInt>().Uint64Value(&lossless);
    pc.oldFoot = c.Get(6u).As<Napi::Number>().Int64Value();
    pc.count = c.Get(7u).As<Napi::Number>().Uint32Value();
  }
  auto runs = View<uint32_t>(o.Get("runs"));
  plan.runs.assign(runs.first, runs.first + runs.second);
  auto ci = View<int32_t>(o.Get("chainIndex"));
  plan.chainIndex.assign(ci.first, ci.first + ci.second);
  auto z = View<uint32_t>(o.Get("zeroed"));
  plan.zeroed.assign(z.first, z.first + z.second);
  std::sort(plan.zeroed.begin(), plan.zeroed.end());
  plan.dropIdleBaseChains = o.Get("dropIdleBaseChains").ToBoolean();
  Napi::Value renames = o.Get("renames");
  if (renames.IsArray()) {
    Napi::Array a = renames.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Array pair = a.Get(i).As<Napi::Array>();
      plan.renames.emplace_back(pair.Get(0u).As<Napi::String>(), pair.Get(1u).As<Napi::String>());
    }
  }
  Napi::Value want = o.Get("wantBaseChains");
  if (want.IsArray()) {
    Napi::Array a = want.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) plan.wantBaseChains.push_back(a.Get(i).As<Napi::String>());
  }
  Napi::Value pending = o.Get("pending");
  if (pending.IsObject()) {
    Napi::Object p = pending.As<Napi::Object>();
    plan.pendingPool = p.Get("pool").As<Napi::Number>().Int32Value();
    Napi::Value words = p.Get("words");
    keep.push_back(Napi::Persistent(words));
    ReadBatch(words, p.Get("counts"), p.Get("chainJumps"), plan.pending);
    Napi::Value c = p.Get("counters");
    if (c.IsTypedArray()) {
      auto k = c.As<Napi::TypedArrayOf<uint64_t>>();
      plan.pending.counters.assign(k.Data(), k.Data() + k.ElementLength());
    }
  }
}

Napi::Object ReadCommitArgs(const Napi::CallbackInfo& info, CommitArgs& a) {
  a.fam = &FamilyFor(info[0].As<Napi::String>());
  a.table = info[1].As<Napi::String>();
  a.netns = std::make_unique<NetnsHold>(info[2].As<Napi::Number>().Int32Value());
  ReadPlan(info.Env(), info[3].As<Napi::Object>(), a.plan, a.keep);
  Napi::Object expect = info[4].As<Napi::Object>();
  Napi::Value base = expect.Get("base");
  if (base.IsBuffer()) {
    auto b = base.As<Napi::Buffer<char>>();
    a.base = b.Data();
    a.baseSize = b.Length();
    a.keep.push_back(Napi::Persistent(base));
  }
  a.expectAbsent = expect.Get("absent").ToBoolean();
  return expect;
}

}  // namespace iptc
