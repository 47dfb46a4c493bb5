#include "table_read.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "family.h"
#include "netns.h"
#include "rules_out.h"
#include "table_open.h"
#include "worker.h"
#include "xtables.h"

namespace iptc {

namespace {

struct ChainOut {
  std::string name;
  bool builtin = false;
  std::string policy;
  xt_counters policyCounters{};
  unsigned references = 0;
  uint32_t ruleCount = 0;
};

class ReadJob : public Job {
 public:
  ReadJob(const Family& fam, std::string table, int netns, bool create)
      : fam_(fam), table_(std::move(table)), netns_(netns), create_(create) {}

  void Run() override {
    RunInNetns(netns_, failure, [&] {
      if (!create_) {
        int exists = TableExists(fam_, table_);
        if (exists < 0) {
          failure.set("ERR_IPTC_NO_LEGACY", NoLegacyMessage(fam_), ENOPROTOOPT);
          return;
        }
        if (exists == 0) {
          absent_ = true;
          return;
        }
      }
      XtGuard guard(failure);
      if (!guard.ok()) return;
      xtc_handle* h = OpenHandle(fam_, table_, failure);
      if (!h) return;
      RulesOut::Capture capture(rules_, failure);
      if (!capture.ok()) {
        fam_.free(h);
        return;
      }
      uint64_t d = 0xcbf29ce484222325ULL;
      for (const char* c = fam_.firstChain(h); c && !failure.failed(); c = fam_.nextChain(h)) {
        ChainOut ch;
        ch.name = c;
        d = DigestBytes(c, strlen(c) + 1, d);
        ch.builtin = fam_.builtin(c, h);
        if (ch.builtin) {
          const char* pol = fam_.getPolicy(c, &ch.policyCounters, h);
          ch.policy = pol ? pol : "";
          d = DigestBytes(ch.policy.c_str(), ch.policy.size() + 1, d);
        }
        fam_.getReferences(&ch.references, Label(ch.name), h);
        for (const void* e = fam_.firstRule(c, h); e; e = fam_.nextRule(e, h)) {
          d = DigestEntry(fam_, e, d);
          if (!rules_.Add(fam_, e, fam_.getTarget(e, h), failure)) break;
          ch.ruleCount++;
        }
        chains_.push_back(std::move(ch));
      }
      digest_ = d;
      fam_.free(h);
    });
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    if (absent_) {
      o.Set("absent", true);
      return o;
    }
    Napi::Array chains = Napi::Array::New(env, chains_.size());
    for (size_t i = 0; i < chains_.size(); i++) {
      const ChainOut& c = chains_[i];
      Napi::Object co = Napi::Object::New(env);
      co.Set("name", c.name);
      co.Set("builtin", c.builtin);
      if (c.builtin) {
        co.Set("policy", c.policy);
        co.Set("packets", Napi::BigInt::New(env, static_cast<uint64_t>(c.policyCounters.pcnt)));
        co.Set("bytes", Napi::BigInt::New(env, static_cast<uint64_t>(c.policyCounters.bcnt)));
      }
      co.Set("references", c.references);
      co.Set("ruleCount", c.ruleCount);
      chains[i] = co;
    }
    o.Set("chains", chains);
    rules_.Fill(env, o);
    char hex[17];
    snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(digest_));
    o.Set("digest", hex);
    return o;
  }

 private:
  const Family& fam_;
  std::string table_;
  NetnsHold netns_;
  bool create_;
  bool absent_ = false;
  std::vector<ChainOut> chains_;
  RulesOut rules_;
  uint64_t digest_ = 0;
};

class ListJob : public Job {
 public:
  ListJob(const Family& fam, int netns) : fam_(fam), netns_(netns) {}
  void Run() override {
    RunInNetns(netns_, failure, [&] {
      FILE* f = fopen(fam_.tablesNames, "re");
      if (!f) {
        if (errno != ENOENT)
          failure.fromErrno(errno, "open", std::string("cannot list tables: ") + strerror(errno));
        return;  // no legacy tables yet in this namespace
      }
      char line[64];
      while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n') line[--n] = '\0';
        if (n) names_.emplace_back(line);
      }
      fclose(f);
    });
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array a = Napi::Array::New(env, names_.size());
    for (size_t i = 0; i < names_.size(); i++) a[i] = names_[i];
    return a;
  }

 private:
  const Family& fam_;
  NetnsHold netns_;
  std::vector<std::string> names_;
};

}  // namespace

Napi::Value ReadTable(const Napi::CallbackInfo& info) {
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  auto job = std::make_unique<ReadJob>(fam, info[1].As<Napi::String>(), info[2].As<Napi::Number>().Int32Value(),
                                       info[4].ToBoolean());
  return RunJob(info.Env(), std::move(job), info[3].ToBoolean());
}

Napi::Value ListTables(const Napi::CallbackInfo& info) {
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  auto job = std::make_unique<ListJob>(fam, info[1].As<Napi::Number>().Int32Value());
  return RunJob(info.Env(), std::move(job), info[2].ToBoolean());
}

}  // namespace iptc
