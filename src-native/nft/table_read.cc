#include "nft/table_read.h"

// The kernel's ip_tables headers first (see xt/family.h).
#include "xt/family.h"

#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <string.h>

#include <algorithm>
#include <deque>
#include <mutex>
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
#include "nft/known.h"
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

const BuiltinTable* BuiltinFor(const std::string& table) {
  for (const BuiltinTable& t : Builtins())
    if (table == t.name) return &t;
  return nullptr;
}

// The chains as iptables-nft sees them: the base chains it would have
// made (a missing one as ACCEPT with no counters), then user chains by name.
void Layout(const Family& fam, const BuiltinTable& builtin, NftTableDump& dump, NftTableRead& out, Failure& failure) {
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
      out.dropped.push_back(ci.name);
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
      out.dropped.push_back(u);
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
  for (const std::string& name : out.dropped) byChain.erase(name);
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
      DecodeNftRule(fam, r, d);
      int32_t jump = -1;
      if (d.error.empty() && !d.jump.empty()) {
        auto to = chainAt.find(d.jump);
        if (to == chainAt.end()) d.error = "a jump to '" + d.jump + "', which is not one of the table's chains";
        else if (plan.chains[to->second].hook >= 0) d.error = "a jump to a base chain (not iptables')";
        else jump = static_cast<int32_t>(to->second);
      }
      if (!d.error.empty()) {
        out.skipped.push_back(NftSkipped{c.name, position, d.handle, d.error, DescribeNftRule(r)});
        continue;
      }
      offsets.push_back(static_cast<uint32_t>(bytes.size()));
      bytes.insert(bytes.end(), d.entry.begin(), d.entry.end());
      jumps.push_back(jump);
      out.handles.push_back(d.handle);
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
  if (!LayOut(fam, plan, t, out.info, out.index, failure)) return;
  out.blob = std::make_shared<const Bytes>(std::move(t.buf));
}

// The last reads handed over, newest first. A blob's address is reused only
// once it is freed, and then by a newer read, which comes first here. (Reads
// of one known table share its blob, and with it the same facts.)
std::mutex rememberedLock;
std::deque<std::pair<const char*, std::shared_ptr<const NftReadFacts>>> remembered;

void Remember(const char* entries, std::shared_ptr<const NftReadFacts> facts) {
  std::lock_guard<std::mutex> hold(rememberedLock);
  remembered.emplace_front(entries, std::move(facts));
  if (remembered.size() > 16) remembered.pop_back();
}

class NftReadJob : public Job {
 public:
  NftReadJob(const Family& fam, std::string table, int netns, bool reuse)
      : fam_(fam), table_(std::move(table)), netns_(netns), reuse_(reuse) {}

  void Run() override {
    RunInNetns(netns_, failure, [&] { ReadNftTable(fam_, table_, read_, failure, reuse_); });
  }

  Napi::Value Result(Napi::Env env) override {
    if (read_.absent) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("absent", true);
      return o;
    }
    auto facts = std::make_shared<NftReadFacts>();
    facts->genid = read_.genid;
    facts->size = read_.blob->size() - NewTable::kHead;
    facts->index = read_.index;
    facts->handles = read_.handles;
    facts->chains = read_.chains;
    Remember(read_.blob->data() + NewTable::kHead, std::move(facts));
    Napi::Object o = TableToJs(env, read_.blob, NewTable::kHead, read_.index);
    const std::vector<uint64_t>& h = read_.handles;
    auto handles = Napi::BigUint64Array::New(env, h.size());
    if (!h.empty()) memcpy(handles.Data(), h.data(), h.size() * sizeof(uint64_t));
    o.Set("handles", handles);
    Napi::Array skipped = Napi::Array::New(env, read_.skipped.size());
    for (size_t i = 0; i < read_.skipped.size(); i++) {
      const NftSkipped& s = read_.skipped[i];
      Napi::Array a = Napi::Array::New(env, 5);
      a[0u] = s.chain;
      a[1u] = s.position;
      a[2u] = Napi::BigInt::New(env, s.handle);
      a[3u] = s.why;
      a[4u] = s.text;
      skipped[i] = a;
    }
    o.Set("skipped", skipped);
    Napi::Array dropped = Napi::Array::New(env, read_.dropped.size());
    for (size_t i = 0; i < read_.dropped.size(); i++) dropped[i] = read_.dropped[i];
    o.Set("dropped", dropped);
    o.Set("genid", read_.genid);
    Napi::Array present = Napi::Array::New(env);
    for (const NftChainInfo& c : read_.chains)
      if (c.base) present[present.Length()] = c.name;
    o.Set("present", present);
    return o;
  }

 private:
  const Family& fam_;
  std::string table_;
  NetnsHold netns_;
  bool reuse_;
  NftTableRead read_;
};

}  // namespace

std::shared_ptr<const NftReadFacts> RecallNftRead(const char* entries, size_t size) {
  std::lock_guard<std::mutex> hold(rememberedLock);
  for (const auto& [at, facts] : remembered)
    if (at == entries) return facts->size == size ? facts : nullptr;
  return nullptr;
}

bool NftBaseChainOf(const std::string& table, const std::string& chain, int& hook, int& prio, std::string& type) {
  const BuiltinTable* t = BuiltinFor(table);
  if (!t) return false;
  for (const BaseChain& b : t->chains) {
    if (chain != b.name) continue;
    hook = b.hook;
    prio = b.prio;
    type = b.type;
    return true;
  }
  return false;
}

bool ReadNftTable(const Family& fam, const std::string& table, NftTableRead& out, Failure& failure, bool reuse) {
  const BuiltinTable* builtin = BuiltinFor(table);
  if (!builtin) {
    failure.set("ERR_IPTC_ARGUMENT", "'" + table + "' is not a table iptables-nft makes (raw, mangle, filter, security, nat)",
                EINVAL);
    return false;
  }
  uint64_t epoch = 0;
  if (reuse) {
    // Watched from before the generation is read: every batch after it is
    // announced whole (nft/known.h).
    epoch = WatchNftNetns();
    uint32_t genid = 0;
    if (!NftGenId(genid, failure)) return false;
    if (std::shared_ptr<const NftKnownTable> k = KnownNftTable(fam, table, genid)) {
      out.genid = genid;
      out.blob = k->blob;  // shared, not copied
      out.index = k->index;
      out.handles = k->handles;
      out.chains = k->chains;
      return true;
    }
  }
  NftTableDump dump;
  if (!DumpNftTable(fam.nfproto, table, dump, failure)) return false;
  if (!dump.exists) {
    out.absent = true;
    return true;
  }
  out.genid = dump.genid;
  Layout(fam, *builtin, dump, out, failure);
  out.chains = std::move(dump.chains);
  if (failure.failed()) return false;
  if (reuse && out.skipped.empty() && out.dropped.empty()) {
    auto k = std::make_shared<NftKnownTable>();
    k->genid = out.genid;
    k->blob = out.blob;
    k->index = out.index;
    k->handles = out.handles;
    k->chains = out.chains;
    KnowNftTable(fam, table, std::move(k), epoch);
  }
  return true;
}

Napi::Value NftReadTable(const Napi::CallbackInfo& info) {
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  auto job = std::make_unique<NftReadJob>(fam, info[1].As<Napi::String>(), info[2].As<Napi::Number>().Int32Value(),
                                          info[4].ToBoolean());
  return RunJob(info.Env(), std::move(job), info[3].ToBoolean());
}

}  // namespace iptc
