#include "nft/table_read.h"

// The kernel's ip_tables headers first (see xt/family.h).
#include "xt/family.h"

#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <string.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/netns.h"
#include "common/worker.h"
#include "legacy/blob.h"
#include "legacy/build.h"
#include "legacy/table_read.h"
#include "nft/decode.h"
#include "nft/dump.h"
#include "xt/plan.h"

namespace iptc {

namespace {

// The base chains iptables-nft makes, per table (the same for ip and ip6):
// what a base chain must be for iptables-nft to take it as its own.
struct BaseChain {
  const char* name;
  int hook;
  int prio;
  const char* type;
};
struct BuiltinTable {
  const char* name;
  std::vector<BaseChain> chains;  // by hook
};
const std::vector<BuiltinTable>& Builtins() {
  static const std::vector<BuiltinTable> t = {
      {"raw", {{"PREROUTING", NF_INET_PRE_ROUTING, -300, "filter"}, {"OUTPUT", NF_INET_LOCAL_OUT, -300, "filter"}}},
      {"mangle",
       {{"PREROUTING", NF_INET_PRE_ROUTING, -150, "filter"},
        {"INPUT", NF_INET_LOCAL_IN, -150, "filter"},
        {"FORWARD", NF_INET_FORWARD, -150, "filter"},
        {"OUTPUT", NF_INET_LOCAL_OUT, -150, "route"},
        {"POSTROUTING", NF_INET_POST_ROUTING, -150, "filter"}}},
      {"filter",
       {{"INPUT", NF_INET_LOCAL_IN, 0, "filter"},
        {"FORWARD", NF_INET_FORWARD, 0, "filter"},
        {"OUTPUT", NF_INET_LOCAL_OUT, 0, "filter"}}},
      {"security",
       {{"INPUT", NF_INET_LOCAL_IN, 150, "filter"},
        {"FORWARD", NF_INET_FORWARD, 150, "filter"},
        {"OUTPUT", NF_INET_LOCAL_OUT, 150, "filter"}}},
      {"nat",
       {{"PREROUTING", NF_INET_PRE_ROUTING, -100, "nat"},
        {"INPUT", NF_INET_LOCAL_IN, 100, "nat"},
        {"OUTPUT", NF_INET_LOCAL_OUT, -100, "nat"},
        {"POSTROUTING", NF_INET_POST_ROUTING, 100, "nat"}}},
  };
  return t;
}

struct Skipped {
  std::string chain;
  uint32_t position;
  uint64_t handle;
  std::string why, text;
};

class NftReadJob : public Job {
 public:
  NftReadJob(const Family& fam, std::string table, int netns) : fam_(fam), table_(std::move(table)), netns_(netns) {}

  void Run() override {
    const BuiltinTable* builtin = nullptr;
    for (const BuiltinTable& t : Builtins())
      if (table_ == t.name) builtin = &t;
    if (!builtin) {
      failure.set("ERR_IPTC_ARGUMENT", "'" + table_ + "' is not a table iptables-nft makes (raw, mangle, filter, security, nat)",
                  EINVAL);
      return;
    }
    NftTableDump dump;
    RunInNetns(netns_, failure, [&] { DumpNftTable(fam_.nfproto, table_, dump, failure); });
    if (failure.failed()) return;
    if (!dump.exists) {
      absent_ = true;
      return;
    }
    genid_ = dump.genid;
    Layout(*builtin, dump);
  }

  Napi::Value Result(Napi::Env env) override {
    if (absent_) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("absent", true);
      return o;
    }
    Napi::Object o = TableToJs(env, std::move(blob_), NewTable::kHead, index_);
    auto handles = Napi::BigUint64Array::New(env, handles_.size());
    if (!handles_.empty()) memcpy(handles.Data(), handles_.data(), handles_.size() * sizeof(uint64_t));
    o.Set("handles", handles);
    Napi::Array skipped = Napi::Array::New(env, skipped_.size());
    for (size_t i = 0; i < skipped_.size(); i++) {
      const Skipped& s = skipped_[i];
      Napi::Array a = Napi::Array::New(env, 5);
      a[0u] = s.chain;
      a[1u] = s.position;
      a[2u] = Napi::BigInt::New(env, s.handle);
      a[3u] = s.why;
      a[4u] = s.text;
      skipped[i] = a;
    }
    o.Set("skipped", skipped);
    Napi::Array dropped = Napi::Array::New(env, dropped_.size());
    for (size_t i = 0; i < dropped_.size(); i++) dropped[i] = dropped_[i];
    o.Set("dropped", dropped);
    o.Set("genid", genid_);
    return o;
  }

 private:
  // The chains as iptables-nft sees them: the base chains it would have
  // made (a missing one as ACCEPT with no counters), then user chains by name.
  void Layout(const BuiltinTable& builtin, NftTableDump& dump) {
    Plan plan;
    std::map<std::string, size_t> chainAt;
    for (const BaseChain& b : builtin.chains) {
      PlanChain c;
      c.name = b.name;
      c.hook = b.hook;
      c.policy = kVerdictAccept;
      c.policyMode = kCountersSet;
      chainAt[b.name] = plan.chains.size();
      plan.chains.push_back(c);
    }
    std::vector<std::string> users;
    std::vector<bool> present(plan.chains.size(), false);
    for (const NftChainInfo& ci : dump.chains) {
      if (!ci.base) {
        users.push_back(ci.name);
        continue;
      }
      auto it = chainAt.find(ci.name);
      const BaseChain* want = nullptr;
      for (const BaseChain& b : builtin.chains)
        if (ci.name == b.name) want = &b;
      if (it == chainAt.end() || !want || want->hook != static_cast<int>(ci.hook) || want->prio != ci.prio ||
          ci.type != want->type || present[it->second]) {
        dropped_.push_back(ci.name);
        continue;
      }
      present[it->second] = true;
      PlanChain& c = plan.chains[it->second];
      c.policy = ci.policy == NF_DROP ? kVerdictDrop : kVerdictAccept;
      c.policyCounters = xt_counters{ci.packets, ci.bytes};
    }
    std::sort(users.begin(), users.end());
    for (const std::string& u : users) {
      if (chainAt.count(u)) {  // a user chain named like a base one: not iptables'
        dropped_.push_back(u);
        continue;
      }
      PlanChain c;
      c.name = u;
      chainAt[u] = plan.chains.size();
      plan.chains.push_back(c);
    }

    // Rules, decoded, in the chains' order (the dump gives each chain's in position order).
    std::map<std::string, std::vector<nftnl_rule*>> byChain;
    for (const NftRulePtr& r : dump.rules) byChain[nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN)].push_back(r.get());
    // The rules of a chain left out are not iptables' either (and a chain's
    // name is unique in its table: a dropped one leaves its slot empty).
    for (const std::string& name : dropped_) byChain.erase(name);
    std::vector<char> bytes;
    std::vector<uint32_t> offsets;
    std::vector<int32_t> jumps;
    NftDecoded d;
    for (size_t ci = 0; ci < plan.chains.size(); ci++) {
      PlanChain& c = plan.chains[ci];
      auto rules = byChain.find(c.name);
      if (rules == byChain.end()) continue;
      uint32_t first = static_cast<uint32_t>(offsets.size()), position = 0;
      for (nftnl_rule* r : rules->second) {
        position++;
        DecodeNftRule(fam_, r, d);
        int32_t jump = -1;
        if (d.error.empty() && !d.jump.empty()) {
          auto to = chainAt.find(d.jump);
          if (to == chainAt.end()) d.error = "a jump to '" + d.jump + "', which is not one of the table's chains";
          else if (plan.chains[to->second].hook >= 0) d.error = "a jump to a base chain (not iptables')";
          else jump = static_cast<int32_t>(to->second);
        }
        if (!d.error.empty()) {
          skipped_.push_back(Skipped{c.name, position, d.handle, d.error, DescribeNftRule(r)});
          continue;
        }
        offsets.push_back(static_cast<uint32_t>(bytes.size()));
        bytes.insert(bytes.end(), d.entry.begin(), d.entry.end());
        jumps.push_back(jump);
        handles_.push_back(d.handle);
      }
      c.count = static_cast<uint32_t>(offsets.size()) - first;
      plan.runs.insert(plan.runs.end(), {0u, first, c.count});
    }
    PlanPool pool;
    pool.bytes = bytes.data();
    pool.size = bytes.size();
    pool.offsets = offsets.data();
    pool.jumps = jumps.data();
    pool.count = offsets.size();
    plan.pools.push_back(pool);
    plan.chainIndex.resize(plan.chains.size());
    for (size_t i = 0; i < plan.chains.size(); i++) plan.chainIndex[i] = static_cast<int32_t>(i);
    if (!plan.Expand(failure)) return;
    for (PlanRule& r : plan.rules) r.mode = kCountersSet;

    // The legacy form of the table, and its index.
    NewTable t;
    std::vector<CounterSource> counterMap;
    if (!BuildTable(fam_, plan, t, counterMap, failure)) return;
    TableInfo info;
    for (const PlanChain& c : plan.chains)
      if (c.hook >= 0) info.validHooks |= 1u << c.hook;
    memcpy(info.hookEntry, t.hookEntry, sizeof(info.hookEntry));
    memcpy(info.underflow, t.underflow, sizeof(info.underflow));
    info.numEntries = t.numEntries;
    info.size = static_cast<unsigned>(t.size());
    if (!IndexTable(fam_, info, t.entries(), t.size(), index_, failure)) return;
    blob_ = std::make_unique<std::vector<char>>(std::move(t.buf));
  }

  const Family& fam_;
  std::string table_;
  NetnsHold netns_;
  bool absent_ = false;
  uint32_t genid_ = 0;
  std::unique_ptr<std::vector<char>> blob_;
  TableIndex index_;
  std::vector<uint64_t> handles_;
  std::vector<Skipped> skipped_;
  std::vector<std::string> dropped_;
};

}  // namespace

Napi::Value NftReadTable(const Napi::CallbackInfo& info) {
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  auto job = std::make_unique<NftReadJob>(fam, info[1].As<Napi::String>(), info[2].As<Napi::Number>().Int32Value());
  return RunJob(info.Env(), std::move(job), info[3].ToBoolean());
}

}  // namespace iptc
