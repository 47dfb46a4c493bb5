#include "xt/plan.h"

namespace iptc {

const char* Plan::Entry(const Family& fam, const PlanRule& r) const {
  if (static_cast<int>(r.pool) == pendingPool) {
    // Pending rules are parsed one entry each (JavaScript parses at once any
    // rule that may make several): rule k is entry k.
    if (r.offset >= parsed.offsets.size()) return nullptr;
    return parsed.bytes.data() + parsed.offsets[r.offset];
  }
  if (r.pool >= pools.size()) return nullptr;
  const auto& p = pools[r.pool];
  if (static_cast<size_t>(r.offset) + fam.headerSize > p.second) return nullptr;
  const char* e = p.first + r.offset;
  if (r.offset + fam.nextOffset(e) > p.second || fam.nextOffset(e) < fam.headerSize) return nullptr;
  return e;
}

void ReadPlan(Napi::Env env, Napi::Object o, Plan& plan, std::vector<Napi::Reference<Napi::Value>>& keep) {
  Napi::Array pools = o.Get("pools").As<Napi::Array>();
  plan.pools.resize(pools.Length());
  for (uint32_t i = 0; i < pools.Length(); i++) {
    Napi::Value v = pools.Get(i);
    auto b = v.As<Napi::Buffer<char>>();
    plan.pools[i] = {b.Data(), b.Length()};
    keep.push_back(Napi::Persistent(v));
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
  Napi::Uint32Array rules = o.Get("rules").As<Napi::Uint32Array>();
  Napi::Int32Array jumps = o.Get("jumps").As<Napi::Int32Array>();
  size_t n = jumps.ElementLength();
  if (rules.ElementLength() != 4 * n) throw Napi::TypeError::New(env, "plan: rules and jumps differ in length");
  plan.rules.resize(n);
  const uint32_t* r = rules.Data();
  for (size_t i = 0; i < n; i++) {
    PlanRule& pr = plan.rules[i];
    pr.pool = r[4 * i];
    pr.offset = r[4 * i + 1];
    pr.mode = static_cast<uint8_t>(r[4 * i + 2]);
    pr.oldIndex = r[4 * i + 3];
    pr.jump = jumps[i];
  }
  Napi::Value pending = o.Get("pending");
  if (pending.IsObject()) {
    Napi::Object p = pending.As<Napi::Object>();
    plan.pendingPool = p.Get("pool").As<Napi::Number>().Int32Value();
    ReadBatch(p.Get("words"), p.Get("counts"), p.Get("chainJumps"), plan.pending);
    Napi::Value c = p.Get("counters");
    if (c.IsTypedArray()) {
      auto k = c.As<Napi::TypedArrayOf<uint64_t>>();
      plan.pending.counters.assign(k.Data(), k.Data() + k.ElementLength());
    }
  }
}

}  // namespace iptc
