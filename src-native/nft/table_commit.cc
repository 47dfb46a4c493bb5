#include "nft/table_commit.h"

// The kernel's ip_tables headers first (see xt/family.h).
#include "xt/family.h"

#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/netns.h"
#include "common/worker.h"
#include "legacy/blob.h"
#include "legacy/build.h"
#include "nft/batch.h"
#include "nft/encode.h"
#include "nft/table_read.h"
#include "xt/plan.h"

namespace iptc {

namespace {

// How often a commit whose table did not change is sent again when the
// ruleset's generation moved between its read and its batch (another table,
// or another program's change that left this table as it was).
constexpr int kAttempts = 4;

class NftCommitJob : public Job {
 public:
  const Family* fam = nullptr;
  std::string table;
  std::unique_ptr<NetnsHold> netns;
  Plan plan;
  const char* base = nullptr;  // the entries of the table as the snapshot read it
  size_t baseSize = 0;
  bool expectAbsent = false;
  std::vector<Napi::Reference<Napi::Value>> keep;

  void Run() override {
    if (!plan.Prepare(*fam, table, failure)) return;
    RunInNetns(*netns, failure, [&] {
      for (int attempt = 0; attempt < kAttempts; attempt++) {
        if (Commit() || failure.failed()) return;
      }
      Conflict("kept changing while being committed");
    });
  }

  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  void Conflict(const std::string& why) {
    failure.set("ERR_IPTC_CONFLICT",
                "nf_tables table '" + table + "' " + why +
                    "; nothing was committed (re-read and re-apply, e.g. with Table.update)",
                EAGAIN);
  }

  // One attempt: read the table as it is, check it is the snapshot's, send
  // the batch made against that read. false without a failure: try again.
  bool Commit() {
    NftTableRead now;
    if (!ReadNftTable(*fam, table, now, failure)) return false;
    const char* nowEntries = now.absent ? nullptr : now.blob->data() + NewTable::kHead;
    size_t nowSize = now.absent ? 0 : now.blob->size() - NewTable::kHead;
    if (!now.absent && (!now.skipped.empty() || !now.dropped.empty())) {
      failure.set("ERR_IPTC_READONLY",
                  "nf_tables table '" + table + "' holds " +
                      (now.skipped.empty() ? "base chains iptables-nft did not make" : "rules iptables cannot show") +
                      "; iptc-node does not write it (use nft)",
                  EPERM);
      return false;
    }
    if (base && (now.absent || !SameTable(*fam, base, baseSize, nowEntries, nowSize))) {
      Conflict(now.absent ? "was deleted since this snapshot was read" : "changed since this snapshot was read");
      return false;
    }
    if (expectAbsent && !now.absent && !IsPristine(now.index)) {
      Conflict("was made and changed since this snapshot found it absent");
      return false;
    }
    // Built-in chains a restore did not list keep the policy they have.
    for (PlanChain& c : plan.chains) {
      if (c.oldFoot != -2) continue;
      c.policyMode = kCountersKept;
      for (const ChainIndex& n : now.index.chains)
        if (n.hook == c.hook && c.hook >= 0) c.policy = n.policy;
    }

    // Where each entry of the table as it is now starts, by entry index.
    std::map<uint32_t, uint32_t> at;
    for (size_t i = 0; i < now.index.offsets.size(); i++) at[now.index.entryIndex[i]] = now.index.offsets[i];
    std::map<std::string, const NftChainInfo*> existing;
    for (const NftChainInfo& c : now.chains) existing[c.name] = &c;

    NftBatch batch(now.genid);
    const int nfproto = fam->nfproto;
    batch.Add(NFT_MSG_NEWTABLE, nfproto, NLM_F_CREATE, [&](nlmsghdr* nh) {
      nftnl_table* t = nftnl_table_alloc();
      nftnl_table_set_str(t, NFTNL_TABLE_NAME, table.c_str());
      nftnl_table_nlmsg_build_payload(nh, t);
      nftnl_table_free(t);
    });
    auto chainMessage = [&](uint16_t type, uint16_t flags, const std::function<void(nftnl_chain*)>& fill) {
      batch.Add(type, nfproto, flags, [&](nlmsghdr* nh) {
        nftnl_chain* c = nftnl_chain_alloc();
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table.c_str());
        fill(c);
        nftnl_chain_nlmsg_build_payload(nh, c);
        nftnl_chain_free(c);
      });
    };
    // Every rule goes; chains the plan no longer has go.
    std::set<std::string> wanted;
    for (const PlanChain& c : plan.chains) wanted.insert(c.name);
    for (const NftChainInfo& c : now.chains) {
      batch.Add(NFT_MSG_DELRULE, nfproto, 0, [&](nlmsghdr* nh) {
        nftnl_rule* r = nftnl_rule_alloc();
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table.c_str());
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, c.name.c_str());
        nftnl_rule_nlmsg_build_payload(nh, r);
        nftnl_rule_free(r);
      });
    }
    // (A flushing restore starts from nothing read: its chains at -1 are
    // the ones its text lists, those at -2 the ones it does not.)
    auto listed = [&](const PlanChain& c) { return !base && !expectAbsent && c.oldFoot == -1; };
    std::set<std::string> idle;  // base chains -X takes away
    for (const PlanChain& c : plan.chains)
      if (plan.dropIdleBaseChains && c.hook >= 0 && c.count == 0 && c.policy == kVerdictAccept && !listed(c))
        idle.insert(c.name);
    for (const NftChainInfo& c : now.chains) {
      if (c.base ? idle.count(c.name) > 0 : !wanted.count(c.name))
        chainMessage(NFT_MSG_DELCHAIN, 0, [&](nftnl_chain* x) { nftnl_chain_set_str(x, NFTNL_CHAIN_NAME, c.name.c_str()); });
    }
    // Chains: base chains where iptables-nft would have them (already there,
    // holding rules, a DROP policy, or listed by a restore), user chains.
    for (const PlanChain& c : plan.chains) {
      auto old = existing.find(c.name);
      bool exists = old != existing.end() && !idle.count(c.name);
      if (idle.count(c.name)) continue;
      if (c.hook < 0) {
        if (!exists)
          chainMessage(NFT_MSG_NEWCHAIN, NLM_F_CREATE, [&](nftnl_chain* x) { nftnl_chain_set_str(x, NFTNL_CHAIN_NAME, c.name.c_str()); });
        continue;
      }
      if (!exists && c.count == 0 && c.policy == kVerdictAccept && !listed(c)) continue;
      int hook, prio;
      std::string type;
      if (!NftBaseChainOf(table, c.name, hook, prio, type)) {
        failure.set("ERR_IPTC_ARGUMENT", "'" + c.name + "' is not a base chain of the " + table + " table", EINVAL);
        return false;
      }
      chainMessage(NFT_MSG_NEWCHAIN, NLM_F_CREATE, [&](nftnl_chain* x) {
        nftnl_chain_set_str(x, NFTNL_CHAIN_NAME, c.name.c_str());
        if (!exists) {
          nftnl_chain_set_u32(x, NFTNL_CHAIN_HOOKNUM, static_cast<uint32_t>(hook));
          nftnl_chain_set_s32(x, NFTNL_CHAIN_PRIO, prio);
          nftnl_chain_set_str(x, NFTNL_CHAIN_TYPE, type.c_str());
        }
        nftnl_chain_set_u32(x, NFTNL_CHAIN_POLICY, c.policy == kVerdictDrop ? NF_DROP : NF_ACCEPT);
        if (c.policyMode != kCountersKept || !exists) {
          bool given = c.policyMode == kCountersSet;
          nftnl_chain_set_u64(x, NFTNL_CHAIN_PACKETS, given ? c.policyCounters.pcnt : 0);
          nftnl_chain_set_u64(x, NFTNL_CHAIN_BYTES, given ? c.policyCounters.bcnt : 0);
        }
      });
    }
    // The rules, chain by chain, each appended.
    std::map<uint32_t, size_t> ruleOfSeq;
    size_t r = 0;
    for (const PlanChain& c : plan.chains) {
      for (uint32_t k = 0; k < c.count; k++, r++) {
        const PlanRule& rule = plan.rules[r];
        NftRuleSpec spec;
        spec.entry = plan.Entry(*fam, rule);
        if (!spec.entry) {
          failure.set("ERR_IPTC_ARGUMENT", "a rule outside its pool");
          return false;
        }
        if (rule.jump >= 0) {
          if (static_cast<size_t>(rule.jump) >= plan.chains.size() || plan.chains[rule.jump].hook >= 0) {
            failure.set("ERR_IPTC_ARGUMENT", "a rule jumps to a built-in chain, which the kernel does not allow", EINVAL);
            failure.index = static_cast<int>(r);
            return false;
          }
          spec.jump = plan.chains[rule.jump].name;
        }
        spec.counters = CountersOf(rule, spec.entry, at, nowEntries);
        std::string error;
        bool ok = true;
        uint32_t seq = batch.Add(NFT_MSG_NEWRULE, nfproto, NLM_F_APPEND | NLM_F_CREATE, [&](nlmsghdr* nh) {
          nftnl_rule* x = nftnl_rule_alloc();
          nftnl_rule_set_str(x, NFTNL_RULE_TABLE, table.c_str());
          nftnl_rule_set_str(x, NFTNL_RULE_CHAIN, c.name.c_str());
          ok = EncodeNftRule(*fam, spec, x, error);
          nftnl_rule_nlmsg_build_payload(nh, x);
          nftnl_rule_free(x);
        });
        if (!ok) {
          failure.set("ERR_IPTC_ARGUMENT", error, EINVAL);
          failure.index = static_cast<int>(r);
          return false;
        }
        ruleOfSeq[seq] = r;
      }
    }
    uint32_t failedSeq = 0;
    if (batch.Send(failedSeq, failure)) return true;
    if (failure.errnum == ERESTART) {
      failure = Failure();  // the generation moved: read again, and check again
      return false;
    }
    failure.code = "ERR_IPTC_COMMIT";
    auto culprit = ruleOfSeq.find(failedSeq);
    if (culprit != ruleOfSeq.end()) {
      failure.index = static_cast<int>(culprit->second);
      failure.message += "; nothing was changed";
    } else {
      failure.message = "nf_tables refused the new " + table + " table (" + failure.message + "); nothing was changed";
    }
    return false;
  }

  // A rule's counter expression starts from: the counters it has now (kept
  // rules), those counted since the snapshot's read (zeroed ones), its own
  // (new or set), or none.
  xt_counters CountersOf(const PlanRule& rule, const char* entry, const std::map<uint32_t, uint32_t>& at,
                         const char* nowEntries) const {
    if (rule.mode == kCountersSet) return fam->counters(entry);
    if (rule.mode == kCountersZero || !nowEntries) return xt_counters{};
    auto where = at.find(rule.oldIndex);
    if (where == at.end()) return xt_counters{};
    xt_counters now = fam->counters(nowEntries + where->second);
    if (rule.mode == kCountersSinceRead && base && where->second < baseSize) {
      xt_counters then = fam->counters(base + where->second);
      now.pcnt = now.pcnt >= then.pcnt ? now.pcnt - then.pcnt : 0;
      now.bcnt = now.bcnt >= then.bcnt ? now.bcnt - then.bcnt : 0;
    }
    return now;
  }
};

}  // namespace

Napi::Value NftCommitTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = std::make_unique<NftCommitJob>();
  job->fam = &FamilyFor(info[0].As<Napi::String>());
  job->table = info[1].As<Napi::String>();
  job->netns = std::make_unique<NetnsHold>(info[2].As<Napi::Number>().Int32Value());
  ReadPlan(env, info[3].As<Napi::Object>(), job->plan, job->keep);
  Napi::Object expect = info[4].As<Napi::Object>();
  Napi::Value base = expect.Get("base");
  if (base.IsBuffer()) {
    auto b = base.As<Napi::Buffer<char>>();
    job->base = b.Data();
    job->baseSize = b.Length();
    job->keep.push_back(Napi::Persistent(base));
  }
  job->expectAbsent = expect.Get("absent").ToBoolean();
  return RunJob(env, std::move(job), info[5].ToBoolean());
}

}  // namespace iptc
