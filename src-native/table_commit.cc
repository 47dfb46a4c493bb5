#include "table_commit.h"

#include <errno.h>
#include <stdio.h>

#include <memory>
#include <string>
#include <vector>

#include "family.h"
#include "netns.h"
#include "table_open.h"
#include "worker.h"
#include "xtables.h"
#include "xtlock.h"

namespace iptc {

namespace {

// Keep in step with OpCode in src/native.ts.
enum OpCode {
  kAppend = 1,      // chain, entry
  kInsert = 2,      // chain, entry, index (0-based)
  kReplace = 3,     // chain, entry, index (0-based)
  kDelete = 4,      // chain, index (0-based)
  kFlush = 5,       // chain
  kZeroChain = 6,   // chain
  kZeroRule = 7,    // chain, index (0-based)
  kNewChain = 8,    // chain
  kDeleteChain = 9, // chain
  kRename = 10,     // chain, newName
  kPolicy = 11,     // chain, target, [packets, bytes]?
  kAppendAll = 12,  // chain, entries back to back (a run of appends)
};

struct Op {
  int code = 0;
  std::string chain, name;
  // Entry bytes stay in the caller's Buffer (kept alive by the job): no copy
  // on the JavaScript thread, however many rules a commit carries.
  const char* entry = nullptr;
  size_t entryLen = 0;
  uint32_t index = 0;
  bool hasCounters = false;
  xt_counters counters{};
};

class CommitJob : public Job {
 public:
  const Family* fam;
  std::string table, expected, lockPath;
  std::unique_ptr<NetnsHold> netns;
  int lockTimeout = 0;
  std::vector<Op> ops;
  std::vector<Napi::Reference<Napi::Value>> keep;

  void Run() override {
    RunInNetns(*netns, failure, [&] {
      XtablesLock lock(lockPath, lockTimeout, failure);
      if (!lock.held()) return;
      // A snapshot of an absent table expects it still absent, or as the
      // kernel makes it (another writer may have made it, but not filled it).
      if (expected == "absent" && TableExists(*fam, table) < 0) {
        failure.set("ERR_IPTC_NO_LEGACY", NoLegacyMessage(*fam), ENOPROTOOPT);
        return;
      }
      XtGuard guard(failure);
      if (!guard.ok()) return;
      xtc_handle* h = OpenHandle(*fam, table, failure);
      if (!h) return;
      if (expected == "absent") {
        if (!IsPristine(*fam, h)) {
          fam->free(h);
          failure.set("ERR_IPTC_CONFLICT",
                      "table '" + table + "' was made and changed in the kernel since this snapshot found it absent; "
                      "nothing was committed (re-read and re-apply, e.g. with Table.update)",
                      EAGAIN);
          return;
        }
      } else if (!expected.empty()) {
        char hex[17];
        snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(DigestHandle(*fam, h)));
        if (expected != hex) {
          fam->free(h);
          failure.set("ERR_IPTC_CONFLICT",
                      "table '" + table + "' changed in the kernel since this snapshot was read; "
                      "nothing was committed (re-read and re-apply, e.g. with Table.update)",
                      EAGAIN);
          return;
        }
      }
      for (size_t i = 0; i < ops.size(); i++) {
        if (!Apply(ops[i], h)) {
          int e = errno;
          failure.fromErrno(e ? e : EINVAL, "libiptc", fam->strerror(e));
          failure.index = static_cast<int>(i);  // JavaScript names the chain and rule
          failure.item = item_;
          fam->free(h);
          return;
        }
      }
      errno = 0;
      if (!fam->commit(h)) {
        int e = errno;
        failure.fromErrno(e ? e : EIO, fam->nfproto == NFPROTO_IPV4 ? "iptc_commit" : "ip6tc_commit",
                          fam->strerror(e));
      }
      fam->free(h);
    });
  }

  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  int item_ = -1;  // which entry of a run of appends is being applied

  bool Apply(Op& op, xtc_handle* h) {
    Label chain(op.chain);
    errno = 0;
    switch (op.code) {
      case kAppend: return fam->append(chain, op.entry, h);
      case kAppendAll:
        item_ = 0;
        for (size_t off = 0; off + fam->headerSize <= op.entryLen; item_++) {
          const char* e = op.entry + off;
          if (!fam->append(chain, e, h)) return false;
          off += fam->nextOffset(e);
        }
        item_ = -1;
        return true;
      case kInsert: return fam->insert(chain, op.entry, op.index, h);
      case kReplace: return fam->replace(chain, op.entry, op.index, h);
      case kDelete: return fam->deleteNum(chain, op.index, h);
      case kFlush: return fam->flush(chain, h);
      case kZeroChain: return fam->zeroEntries(chain, h);
      case kZeroRule: return fam->zeroCounter(chain, op.index + 1, h);
      case kNewChain: return fam->createChain(chain, h);
      case kDeleteChain: return fam->deleteChain(chain, h);
      case kRename: return fam->renameChain(chain, Label(op.name), h);
      case kPolicy: return fam->setPolicy(chain, Label(op.name), op.hasCounters ? &op.counters : nullptr, h);
    }
    errno = EINVAL;
    return false;
  }
};

}  // namespace

Napi::Value CommitTable(const Napi::CallbackInfo& info) {
  auto job = std::make_unique<CommitJob>();
  job->fam = &FamilyFor(info[0].As<Napi::String>());
  job->table = info[1].As<Napi::String>();
  job->netns = std::make_unique<NetnsHold>(info[2].As<Napi::Number>().Int32Value());
  job->expected = info[3].As<Napi::String>();
  Napi::Array ops = info[4].As<Napi::Array>();
  job->lockPath = info[5].As<Napi::String>();
  job->lockTimeout = info[6].As<Napi::Number>().Int32Value();
  bool async = info[7].ToBoolean();
  job->ops.resize(ops.Length());
  for (uint32_t i = 0; i < ops.Length(); i++) {
    Napi::Array t = ops.Get(i).As<Napi::Array>();
    Op& op = job->ops[i];
    op.code = t.Get(0u).As<Napi::Number>().Int32Value();
    op.chain = t.Get(1u).As<Napi::String>();
    Napi::Value a = t.Get(2u), b = t.Get(3u);
    switch (op.code) {
      case kAppend:
      case kAppendAll:
      case kInsert:
      case kReplace: {
        auto buf = a.As<Napi::Buffer<char>>();
        op.entry = buf.Data();
        op.entryLen = buf.Length();
        job->keep.push_back(Napi::Persistent(a));
        if (op.code == kInsert || op.code == kReplace) op.index = b.As<Napi::Number>().Uint32Value();
        break;
      }
      case kDelete:
      case kZeroRule: op.index = a.As<Napi::Number>().Uint32Value(); break;
      case kRename: op.name = a.As<Napi::String>(); break;
      case kPolicy:
        op.name = a.As<Napi::String>();
        if (b.IsArray()) {
          Napi::Array c = b.As<Napi::Array>();
          bool lossless;
          op.hasCounters = true;
          op.counters.pcnt = c.Get(0u).As<Napi::BigInt>().Uint64Value(&lossless);
          op.counters.bcnt = c.Get(1u).As<Napi::BigInt>().Uint64Value(&lossless);
        }
        break;
      default: break;
    }
  }
  return RunJob(info.Env(), std::move(job), async);
}

}  // namespace iptc
