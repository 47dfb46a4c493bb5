#include "nft/table_commit.h"

// The kernel's ip_tables headers first (see xt/family.h).
#include "xt/family.h"

#include <errno.h>
#include <string.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/netns.h"
#include "common/worker.h"
#include "legacy/blob.h"
#include "legacy/build.h"
#include "nft/batch.h"
#include "nft/batch_plan.h"
#include "nft/known.h"
#include "nft/table_read.h"
#include "xt/plan.h"

namespace iptc {

namespace {

// How often a commit whose table did not change is sent again when the
// ruleset's generation moved between its read and its batch (another table,
// or another program's change that left this table as it was).
constexpr int kAttempts = 4;
// More new rules than this in one batch, and the namespace is not watched
// while it is sent (see nft/known.h).
constexpr size_t kWatchedRules = 4096;

class NftCommitJob : public Job, public CommitArgs {
 public:
  bool incremental_ = false;
  bool reread_ = false;  // the generation moved since the snapshot's read
  bool remember = false;  // a change (Table.update): keep the table as left, for the next

  void Run() override {
    if (!plan.Prepare(*fam, table, failure)) return;
    RunInNetns(*netns, failure, [&] {
      for (int attempt = 0; attempt < kAttempts; attempt++) {
        if (Commit() || failure.failed()) return;
      }
      Conflict("kept changing while being committed");
    });
  }

  // What extensions warned of while the pending rules were parsed.
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, plan.Warnings()); }

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
    if (!reread_ && base) {
      // Unchanged since the snapshot's read (same generation): the snapshot's
      // bytes are the table, and the batch, made against that generation,
      // is refused should it move before the batch lands.
      std::shared_ptr<const NftReadFacts> facts = RecallNftRead(base, baseSize);
      uint32_t genid = 0;
      if (facts && NftGenId(genid, failure) && genid == facts->genid) return Send(*facts);
      if (failure.failed()) return false;
    }
    NftTableRead now;
    if (!ReadNftTable(*fam, table, now, failure, remember)) return false;
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

    NftWrite w{*fam, table, plan};
    if (!now.absent) w.now = NftNow{nowEntries, nowSize, &now.index, &now.handles, &now.chains};
    return Send(w, now.genid);
  }

  // The table as this commit left it, known for the next change (see
  // nft/known.h): the plan laid out, each rule's handle (kept, or echoed by
  // the kernel), the chains as they are now; only if nothing else changed
  // the ruleset meanwhile (the generation moved by this batch alone).
  void Remember(uint32_t genid, const NftWritten& written, const std::map<uint32_t, size_t>& ruleOfSeq,
                const std::map<uint32_t, uint64_t>& echoed) {
    auto known = std::make_shared<NftKnownTable>();
    known->handles.resize(plan.rules.size());
    std::vector<bool> have(plan.rules.size(), false);
    for (size_t r = 0; r < written.stays.size() && r < have.size(); r++)
      if (written.stays[r]) known->handles[r] = written.stays[r], have[r] = true;
    for (const auto& [seq, r] : ruleOfSeq) {
      auto e = echoed.find(seq);
      if (e != echoed.end()) known->handles[r] = e->second, have[r] = true;
    }
    for (bool h : have)
      if (!h) return;
    uint64_t epoch = WatchNftNetns();  // (before the generation is read)
    Failure quiet;
    NftTableDump chains;
    if (!DumpNftTable(fam->nfproto, table, chains, quiet, NftRules::kNone) || !chains.exists) return;
    if (chains.genid != genid + 1 && chains.genid != genid) return;
    NewTable t;
    TableInfo info;
    if (!LayOut(*fam, plan, t, info, known->index, quiet)) return;
    known->genid = chains.genid;
    known->blob = std::make_shared<const Bytes>(std::move(t.buf));
    known->chains = std::move(chains.chains);
    KnowNftTable(*fam, table, std::move(known), epoch);
  }

  // The snapshot's own read, as the table is now.
  bool Send(const NftReadFacts& facts) {
    NftWrite w{*fam, table, plan};
    w.now = NftNow{base, baseSize, &facts.index, &facts.handles, &facts.chains};
    return Send(w, facts.genid);
  }

  bool Send(NftWrite& w, uint32_t genid) {
    NftBatch batch(genid);
    w.base = base;
    w.baseSize = baseSize;
    w.expectAbsent = expectAbsent;
    w.echo = remember;
    std::map<uint32_t, size_t> ruleOfSeq;
    NftWritten written;
    if (!PlanNftBatch(w, batch, ruleOfSeq, written, failure)) return false;
    // Announcing thousands of rules to our own watch would cost the kernel
    // more than a later dump: stop watching (the next change reads again).
    if (ruleOfSeq.size() > kWatchedRules) UnwatchNftNetns();
    uint32_t failedSeq = 0;
    if (batch.Send(failedSeq, failure)) {
      // Rules only added or only deleted in a table known at the batch's
      // generation: the next read brings it forward from the batch's
      // announcements (one pass over the table then, not a layout now and
      // another pass after someone else's change).
      if (written.echoed && !(written.rulesOnly && NftKnownFollows(*fam, table, genid)))
        Remember(genid, written, ruleOfSeq, batch.echoed());
      return true;
    }
    if (failure.errnum == ERESTART) {
      failure = Failure();  // the generation moved: read again, and check again
      reread_ = true;
      return false;
    }
    if (failure.errnum == EPERM) return false;  // not the rules': the caller's privileges
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
};

}  // namespace

Napi::Value NftCommitTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = std::make_unique<NftCommitJob>();
  Napi::Object expect = ReadCommitArgs(info, *job);
  job->remember = expect.Get("remember").ToBoolean();
  return RunJob(env, std::move(job), info[5].ToBoolean());
}

}  // namespace iptc
