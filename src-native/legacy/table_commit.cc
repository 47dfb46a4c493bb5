#include "legacy/table_commit.h"

#include <errno.h>

#include <memory>
#include <string>
#include <vector>

#include "common/netns.h"
#include "common/worker.h"
#include "common/xtlock.h"
#include "legacy/blob.h"
#include "legacy/build.h"
#include "legacy/kernel.h"
#include "xt/parse.h"
#include "xt/plan.h"

namespace iptc {

namespace {

class CommitJob : public Job, public CommitArgs {
 public:
  std::string lockPath;
  int lockTimeout = 0;
  // The snapshot was read under the xtables lock the caller still holds: no
  // writer that takes the lock can have changed the table since, so the
  // table is not read again; its size and entry count are checked.
  bool locked = false;
  unsigned baseEntries = 0;

  void Run() override {
    // Parsing needs no namespace and no lock: done first, off the JS thread.
    if (!plan.Prepare(*fam, table, failure)) return;
    RunInNetns(*netns, failure, [&] { Commit(); });
  }

  // What extensions warned of while the pending rules were parsed.
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, plan.Warnings()); }

 private:
  void Conflict(const std::string& why) {
    failure.set("ERR_IPTC_CONFLICT",
                "table '" + table + "' " + why + "; nothing was committed (re-read and re-apply, e.g. with Table.update)",
                EAGAIN);
  }

  void Commit() {
    XtablesLock lock(lockPath, lockTimeout, failure);
    if (!lock.held()) return;
    if (expectAbsent && TableExists(*fam, table) < 0) {
      failure.set("ERR_IPTC_NO_LEGACY", NoLegacyMessage(*fam), ENOPROTOOPT);
      return;
    }
    bool fromKernel = false;
    for (const PlanChain& c : plan.chains) fromKernel = fromKernel || c.oldFoot == -2;
    KernelTable k(*fam, table);
    TableInfo info;
    Bytes current;
    if (base && locked && !expectAbsent && !fromKernel) {
      if (!k.Info(info, failure)) return;
      if (info.size != baseSize || info.numEntries != baseEntries) {
        Conflict("changed in the kernel since this snapshot was read (by a writer that does not take the xtables lock)");
        return;
      }
    } else if (base || expectAbsent || fromKernel) {
      // The table as it is now, under the lock: the snapshot's base must still be it.
      if (!k.Read(info, current, failure)) return;
      const char* now0 = current.data() + KernelTable::kEntriesAt;
      size_t nowSize = current.size() - KernelTable::kEntriesAt;
      if (base && !SameTable(*fam, base, baseSize, now0, nowSize)) {
        Conflict("changed in the kernel since this snapshot was read");
        return;
      }
      TableIndex now;
      if ((expectAbsent || fromKernel) && !IndexTable(*fam, info, now0, nowSize, now, failure)) return;
      if (expectAbsent && !IsPristine(now)) {
        Conflict("was made and changed in the kernel since this snapshot found it absent");
        return;
      }
      // The kernel's policy, for a built-in chain the snapshot did not set
      // (a restore that does not list it), with its counters kept.
      for (PlanChain& c : plan.chains) {
        if (c.oldFoot != -2) continue;
        c.oldFoot = -1;
        for (const ChainIndex& n : now.chains) {
          if (n.hook != c.hook || c.hook < 0) continue;
          c.policy = n.policy;
          if (c.policyMode != kCountersKept) continue;
          c.policyCounters = n.policyCounters;
          c.oldFoot = n.footIndex;
        }
      }
    } else if (!k.Info(info, failure)) {
      return;
    }
    NewTable next;
    std::vector<CounterSource> map;
    if (!BuildTable(*fam, plan, next, map, failure)) return;
    std::vector<xt_counters> old;
    if (!k.Replace(info, next, old, failure)) {
      if (failure.errnum == EAGAIN) Conflict("changed in the kernel while it was being committed");
      return;
    }
    k.AddCounters(MapCounters(map, old), failure);
  }
};

}  // namespace

Napi::Value CommitTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = std::make_unique<CommitJob>();
  Napi::Object expect = ReadCommitArgs(info, *job);
  job->locked = expect.Get("locked").ToBoolean();
  Napi::Value n = expect.Get("entries");
  if (n.IsNumber()) job->baseEntries = n.As<Napi::Number>().Uint32Value();
  job->lockPath = info[5].As<Napi::String>();
  job->lockTimeout = info[6].As<Napi::Number>().Int32Value();
  return RunJob(env, std::move(job), info[7].ToBoolean());
}

}  // namespace iptc
