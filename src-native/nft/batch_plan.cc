#include "nft/batch_plan.h"

// The kernel's ip_tables headers first (see xt/family.h).
#include "xt/family.h"

#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <algorithm>
#include <functional>
#include <set>

#include "nft/encode.h"
#include "nft/table_read.h"

namespace iptc {

namespace {

class Writer {
 public:
  Writer(const NftWrite& w, NftBatch& batch, std::map<uint32_t, size_t>& ruleOfSeq, Failure& failure)
      : w_(w), fam_(w.fam), plan_(w.plan), batch_(batch), ruleOfSeq_(ruleOfSeq), failure_(failure) {
    if (w.now.entries) {
      const TableIndex& ix = *w.now.index;
      ruleAt_.assign(ix.numEntries, -1);
      for (size_t i = 0; i < ix.offsets.size(); i++)
        if (ix.entryIndex[i] < ix.numEntries) ruleAt_[ix.entryIndex[i]] = static_cast<long>(i);
      for (const ChainIndex& c : ix.chains)
        for (uint32_t k = 0; k < c.count; k++) chainOfRule_.push_back(&c);
      for (const NftChainInfo& c : *w.now.chains) existing_[c.name] = &c;
    }
    for (const auto& [then, now] : w.plan.renames) readName_[now] = then;
  }

  bool Run(NftWritten& out) {
    stays_.assign(plan_.rules.size(), 0);
    bool& incremental = out.incremental;
    incremental = w_.base && w_.now.entries && RulesStayPut();
    Idle();
    if (!w_.now.entries) Table();
    if (incremental) Removals();
    else Flush();
    // Echoes of a few thousand new rules fit the socket; with more, the
    // next change reads the table again.
    size_t added = 0;
    for (uint64_t h : stays_) added += h == 0;
    echo_ = w_.echo && added <= 4096;
    out.echoed = echo_;
    if (!Chains() || !(incremental ? Additions() : AddAll())) return false;
    out.stays = stays_;
    out.rulesOnly = !others_ && !(added_ && deleted_);
    return true;
  }

 private:
  // ---- messages --------------------------------------------------------------
  void Table() {
    others_ = true;
    batch_.Add(NFT_MSG_NEWTABLE, fam_.nfproto, NLM_F_CREATE, [&](nlmsghdr* nh) {
      nftnl_table* t = nftnl_table_alloc();
      nftnl_table_set_str(t, NFTNL_TABLE_NAME, w_.table.c_str());
      nftnl_table_nlmsg_build_payload(nh, t);
      nftnl_table_free(t);
    });
  }
  void Chain(uint16_t type, uint16_t flags, const std::string& name, const std::function<void(nftnl_chain*)>& fill) {
    others_ = true;
    batch_.Add(type, fam_.nfproto, flags, [&](nlmsghdr* nh) {
      nftnl_chain* c = nftnl_chain_alloc();
      nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, w_.table.c_str());
      nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name.c_str());
      if (fill) fill(c);
      nftnl_chain_nlmsg_build_payload(nh, c);
      nftnl_chain_free(c);
    });
  }
  // DELRULE: one rule by handle, or (handle 0) every rule of the chain.
  void DeleteRules(const std::string& chain, uint64_t handle) {
    deleted_ = true;
    batch_.Add(NFT_MSG_DELRULE, fam_.nfproto, 0, [&](nlmsghdr* nh) {
      nftnl_rule* r = nftnl_rule_alloc();
      nftnl_rule_set_str(r, NFTNL_RULE_TABLE, w_.table.c_str());
      nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain.c_str());
      if (handle) nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
      nftnl_rule_nlmsg_build_payload(nh, r);
      nftnl_rule_free(r);
    });
  }
  // NEWRULE of plan rule `r`: appended (no position), before `before`, or
  // in place of `replace`.
  bool AddRule(const PlanChain& c, size_t r, uint64_t before, uint64_t replace) {
    const PlanRule& rule = plan_.rules[r];
    NftRuleSpec spec;
    spec.entry = plan_.Entry(fam_, rule);
    if (!spec.entry) return Fail("ERR_IPTC_ARGUMENT", "a rule outside its pool", r);
    if (rule.jump >= 0) {
      if (static_cast<size_t>(rule.jump) >= plan_.chains.size() || plan_.chains[rule.jump].hook >= 0)
        return Fail("ERR_IPTC_ARGUMENT", "a rule jumps to a built-in chain, which the kernel does not allow", r);
      spec.jump = plan_.chains[rule.jump].name;
    }
    spec.counters = CountersOf(rule, spec.entry);
    std::string error;
    bool ok = true;
    uint16_t flags = replace ? NLM_F_REPLACE : before ? NLM_F_CREATE : NLM_F_CREATE | NLM_F_APPEND;
    (replace ? others_ : added_) = true;
    if (echo_) flags |= NLM_F_ECHO;
    uint32_t seq = batch_.Add(NFT_MSG_NEWRULE, fam_.nfproto, flags, [&](nlmsghdr* nh) {
      nftnl_rule* x = nftnl_rule_alloc();
      nftnl_rule_set_str(x, NFTNL_RULE_TABLE, w_.table.c_str());
      nftnl_rule_set_str(x, NFTNL_RULE_CHAIN, c.name.c_str());
      if (replace) nftnl_rule_set_u64(x, NFTNL_RULE_HANDLE, replace);
      else if (before) nftnl_rule_set_u64(x, NFTNL_RULE_POSITION, before);
      ok = EncodeNftRule(fam_, spec, x, error);
      nftnl_rule_nlmsg_build_payload(nh, x);
      nftnl_rule_free(x);
    });
    if (!ok) return Fail("ERR_IPTC_ARGUMENT", error, r);
    ruleOfSeq_[seq] = r;
    return true;
  }
  bool Fail(const char* code, const std::string& why, size_t r) {
    failure_.set(code, why, EINVAL);
    failure_.index = static_cast<int>(r);
    return false;
  }

  // ---- what stays, what goes ---------------------------------------------------
  // The table's rule (index in now.index) a plan rule is, if it is one read.
  long OldRule(const PlanRule& rule) const {
    if (rule.pool != 0) return -1;
    return rule.oldIndex < ruleAt_.size() ? ruleAt_[rule.oldIndex] : -1;
  }
  // The name a chain of the plan had when read (renames are made in place).
  const std::string& ReadName(const std::string& name) const {
    if (readName_.empty()) return name;  // (no renames: no lookup per rule)
    auto it = readName_.find(name);
    return it == readName_.end() ? name : it->second;
  }
  // The chain a rule read jumps to (null: none).
  const std::string* OldJump(size_t i) const {
    int32_t j = w_.now.index->jumps[i];
    return j < 0 ? nullptr : &w_.now.index->chains[j].name;
  }
  // Whether every rule read is still in the chain it was read in, jumping
  // where it jumped (by name): then each can stay as nf_tables holds it.
  bool RulesStayPut() const {
    size_t r = 0;
    for (const PlanChain& c : plan_.chains) {
      for (uint32_t k = 0; k < c.count; k++, r++) {
        const PlanRule& rule = plan_.rules[r];
        long i = OldRule(rule);
        if (i < 0) continue;
        const std::string* jump = rule.jump >= 0 && static_cast<size_t>(rule.jump) < plan_.chains.size()
                                      ? &ReadName(plan_.chains[rule.jump].name)
                                      : nullptr;
        const std::string* was = OldJump(i);
        if (chainOfRule_[i]->name != ReadName(c.name) || (was ? !jump || *was != *jump : jump != nullptr)) return false;
      }
    }
    return true;
  }

  // (A flushing restore starts from nothing read: its chains at -1 are the
  // ones its text lists, those at -2 the ones it does not.)
  bool Listed(const PlanChain& c) const { return !w_.base && !w_.expectAbsent && c.oldFoot == -1; }

  bool Wanted(const PlanChain& c) const {
    return std::find(plan_.wantBaseChains.begin(), plan_.wantBaseChains.end(), c.name) != plan_.wantBaseChains.end();
  }

  void Idle() {
    for (const PlanChain& c : plan_.chains)
      if (plan_.dropIdleBaseChains && c.hook >= 0 && c.count == 0 && c.policy == kVerdictAccept && !Listed(c) &&
          !Wanted(c))
        idle_.insert(c.name);
  }

  void Flush() {
    if (!w_.now.entries) return;
    for (const NftChainInfo& c : *w_.now.chains) DeleteRules(c.name, 0);
  }

  // Incremental: which read rules stay where they are, the rest deleted.
  void Removals() {
    const TableIndex& ix = *w_.now.index;
    std::vector<bool> kept(ix.offsets.size(), false);
    size_t r = 0;
    for (const PlanChain& c : plan_.chains) {
      // The read rules of this chain in their new order; the longest run of
      // them still in their old order stays, the others move (go and come).
      std::vector<std::pair<long, size_t>> old;  // (old rule, plan rule)
      for (uint32_t k = 0; k < c.count; k++, r++) {
        long i = OldRule(plan_.rules[r]);
        if (i >= 0 && !kept[i]) old.emplace_back(i, r);
      }
      auto keep = [&](size_t k) {
        kept[old[k].first] = true;
        stays_[old[k].second] = (*w_.now.handles)[old[k].first];  // (handles are never 0)
      };
      // Mostly the read rules are still in their order (a rule added or
      // deleted): all stay, without the search.
      bool inOrder = true;
      for (size_t k = 1; k < old.size() && inOrder; k++) inOrder = old[k - 1].first < old[k].first;
      if (inOrder) {
        for (size_t k = 0; k < old.size(); k++) keep(k);
      } else {
        for (size_t k : LongestIncreasing(old)) keep(k);
      }
    }
    for (size_t i = 0; i < kept.size(); i++)
      if (!kept[i]) DeleteRules(chainOfRule_[i]->name, (*w_.now.handles)[i]);
  }

  static std::vector<size_t> LongestIncreasing(const std::vector<std::pair<long, size_t>>& v) {
    std::vector<size_t> tails, prev(v.size(), SIZE_MAX);
    for (size_t k = 0; k < v.size(); k++) {
      auto at = std::lower_bound(tails.begin(), tails.end(), k,
                                 [&](size_t a, size_t b) { return v[a].first < v[b].first; });
      if (at != tails.begin()) prev[k] = *(at - 1);
      if (at == tails.end()) tails.push_back(k);
      else *at = k;
    }
    std::vector<size_t> out;
    for (size_t k = tails.empty() ? SIZE_MAX : tails.back(); k != SIZE_MAX; k = prev[k]) out.push_back(k);
    std::reverse(out.begin(), out.end());
    return out;
  }

  // Chains the plan no longer has go (their rules went above); chains it
  // adds are made; base chains where iptables-nft would have them.
  bool Chains() {
    std::set<std::string> wanted;
    for (const PlanChain& c : plan_.chains) wanted.insert(ReadName(c.name));
    if (w_.now.entries) {
      for (const NftChainInfo& c : *w_.now.chains)
        if (c.base ? idle_.count(c.name) > 0 : !wanted.count(c.name)) Chain(NFT_MSG_DELCHAIN, 0, c.name, nullptr);
    }
    for (const PlanChain& c : plan_.chains) {
      auto old = existing_.find(c.hook < 0 ? ReadName(c.name) : c.name);
      bool exists = old != existing_.end();
      if (c.hook < 0) {
        if (!exists) Chain(NFT_MSG_NEWCHAIN, NLM_F_CREATE, c.name, nullptr);
        else if (old->first != c.name)  // -E: the chain keeps its handle, its rules and the jumps to it
          Chain(NFT_MSG_NEWCHAIN, 0, c.name, [&](nftnl_chain* x) { nftnl_chain_set_u64(x, NFTNL_CHAIN_HANDLE, old->second->handle); });
        continue;
      }
      if (idle_.count(c.name) || (!exists && c.count == 0 && c.policy == kVerdictAccept && !Listed(c) && !Wanted(c))) continue;
      uint32_t policy = c.policy == kVerdictDrop ? NF_DROP : NF_ACCEPT;
      bool counters = c.policyMode != kCountersKept || !exists;
      if (exists && !counters && old->second->policy == policy) continue;  // as it is
      int hook = 0, prio = 0;
      std::string type;
      if (!NftBaseChainOf(w_.table, c.name, hook, prio, type)) {
        failure_.set("ERR_IPTC_ARGUMENT", "'" + c.name + "' is not a base chain of the " + w_.table + " table", EINVAL);
        return false;
      }
      Chain(NFT_MSG_NEWCHAIN, NLM_F_CREATE, c.name, [&](nftnl_chain* x) {
        if (!exists) {
          nftnl_chain_set_u32(x, NFTNL_CHAIN_HOOKNUM, static_cast<uint32_t>(hook));
          nftnl_chain_set_s32(x, NFTNL_CHAIN_PRIO, prio);
          nftnl_chain_set_str(x, NFTNL_CHAIN_TYPE, type.c_str());
        }
        nftnl_chain_set_u32(x, NFTNL_CHAIN_POLICY, policy);
        if (counters) {
          bool given = c.policyMode == kCountersSet;
          nftnl_chain_set_u64(x, NFTNL_CHAIN_PACKETS, given ? c.policyCounters.pcnt : 0);
          nftnl_chain_set_u64(x, NFTNL_CHAIN_BYTES, given ? c.policyCounters.bcnt : 0);
        }
      });
    }
    return true;
  }

  bool AddAll() {
    size_t r = 0;
    for (const PlanChain& c : plan_.chains)
      for (uint32_t k = 0; k < c.count; k++, r++)
        if (!AddRule(c, r, 0, 0)) return false;
    return true;
  }

  // Incremental: new and moved rules go in before the next rule that stays
  // (or at the end); rules that stay but whose counters the snapshot set or
  // zeroed are replaced in place.
  bool Additions() {
    size_t r = 0;
    for (const PlanChain& c : plan_.chains) {
      size_t first = r, end = r + c.count;
      uint64_t next = 0;  // the handle of the next rule that stays
      std::vector<uint64_t> before(c.count);
      for (size_t k = end; k-- > first;) {
        if (stays_[k]) next = stays_[k];
        before[k - first] = next;
      }
      for (r = first; r < end; r++) {
        if (!stays_[r]) {
          if (!AddRule(c, r, before[r - first], 0)) return false;
        } else if (plan_.rules[r].mode != kCountersKept) {
          if (!AddRule(c, r, 0, stays_[r])) return false;
        }
      }
    }
    return true;
  }

  // A rule's counter expression starts from: the counters it has now (kept
  // rules), its own (new or set), or zero. A zeroed rule starts from zero at
  // the commit, as iptables-nft -Z writes it back (libiptc's "counted since
  // the read" is the legacy backend's, whose tool works that way).
  xt_counters CountersOf(const PlanRule& rule, const char* entry) const {
    if (rule.mode == kCountersSet) return fam_.counters(entry);
    long i = OldRule(rule);
    if (rule.mode != kCountersKept || i < 0) return xt_counters{};
    return fam_.counters(w_.now.entries + w_.now.index->offsets[i]);
  }

  const NftWrite& w_;
  const Family& fam_;
  const Plan& plan_;
  NftBatch& batch_;
  std::map<uint32_t, size_t>& ruleOfSeq_;
  Failure& failure_;
  std::vector<long> ruleAt_;                      // entry index -> rule of now.index (-1: none)
  std::vector<const ChainIndex*> chainOfRule_;    // rule of now.index -> its chain
  std::map<std::string, const NftChainInfo*> existing_;
  std::set<std::string> idle_;
  std::map<std::string, std::string> readName_;  // chain renamed: name now -> name when read
  bool echo_ = false;
  bool others_ = false, added_ = false, deleted_ = false;  // what the batch holds (NftWritten::rulesOnly)
  std::vector<uint64_t> stays_;  // plan rule -> the handle it keeps (0: it does not stay)
};

}  // namespace

bool PlanNftBatch(const NftWrite& w, NftBatch& batch, std::map<uint32_t, size_t>& ruleOfSeq, NftWritten& out,
                  Failure& failure) {
  return Writer(w, batch, ruleOfSeq, failure).Run(out);
}

}  // namespace iptc
