// Counters of an iptables-nft table, for CounterReader: one consistent dump
// of the table's chains and rules, and from each rule only its handle and
// its counter expression (nothing decoded, nothing laid out). JavaScript
// places each rule by its handle in the layout of the last full read.
#include "nft/counters.h"

#include "xt/family.h"

#include <string.h>

#include <string>
#include <vector>

#include "common/netns.h"
#include "common/worker.h"
#include "nft/dump.h"

namespace iptc {

namespace {

class NftCountersJob : public Job {
 public:
  NftCountersJob(const Family& fam, std::string table, int netns) : fam_(fam), table_(std::move(table)), netns_(netns) {}

  void Run() override {
    NftTableDump dump;
    RunInNetns(netns_, failure, [&] { DumpNftTable(fam_.nfproto, table_, dump, failure, NftRules::kCounters); });
    if (failure.failed()) return;
    genid_ = dump.genid;
    for (const NftChainInfo& c : dump.chains)
      if (c.base) chains_.push_back(c);
    handles_ = std::move(dump.handles);
    counters_ = std::move(dump.counters);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("genid", genid_);
    auto handles = Napi::BigUint64Array::New(env, handles_.size());
    if (!handles_.empty()) memcpy(handles.Data(), handles_.data(), handles_.size() * sizeof(uint64_t));
    auto counters = Napi::BigUint64Array::New(env, counters_.size());
    if (!counters_.empty()) memcpy(counters.Data(), counters_.data(), counters_.size() * sizeof(uint64_t));
    o.Set("handles", handles);
    o.Set("counters", counters);
    Napi::Array chains = Napi::Array::New(env, chains_.size());
    for (size_t i = 0; i < chains_.size(); i++) {
      Napi::Array a = Napi::Array::New(env, 3);
      a[0u] = chains_[i].name;
      a[1u] = Napi::BigInt::New(env, chains_[i].packets);
      a[2u] = Napi::BigInt::New(env, chains_[i].bytes);
      chains[i] = a;
    }
    o.Set("policies", chains);
    return o;
  }

 private:
  const Family& fam_;
  std::string table_;
  NetnsHold netns_;
  uint32_t genid_ = 0;
  std::vector<uint64_t> handles_, counters_;
  std::vector<NftChainInfo> chains_;
};

}  // namespace

Napi::Value NftCounters(const Napi::CallbackInfo& info) {
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  auto job = std::make_unique<NftCountersJob>(fam, info[1].As<Napi::String>(), info[2].As<Napi::Number>().Int32Value());
  return RunJob(info.Env(), std::move(job), info[3].ToBoolean());
}

}  // namespace iptc
