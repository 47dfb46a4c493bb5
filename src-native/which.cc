// What each kernel firewall holds in a namespace, for one family: the facts
// Table.open({ backend: 'auto' }) decides on (src/which.ts), gathered with a
// handful of cheap calls and nothing read whole: GET_INFO of each legacy
// table (its entry count tells whether it holds more than its built-in
// chains), and the names of the nf_tables tables of the family.
#include "which.h"

#include "xt/family.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "common/netns.h"
#include "common/worker.h"
#include "legacy/kernel.h"
#include "nft/dump.h"

namespace iptc {

namespace {

class WhichJob : public Job {
 public:
  WhichJob(const Family& fam, int netns) : fam_(fam), netns_(netns) {}
  void Run() override {
    RunInNetns(netns_, failure, [&] {
      if (FILE* f = fopen(fam_.tablesNames, "re")) {
        char line[64];
        while (fgets(line, sizeof(line), f)) {
          size_t n = strcspn(line, "\n");
          line[n] = '\0';
          if (!n) continue;
          legacyTables_.emplace_back(line);
          KernelTable k(fam_, line);
          TableInfo info;
          Failure ignored;
          // More entries than a policy per built-in chain and the closing
          // ERROR entry: rules, or user chains.
          if (k.Info(info, ignored) && info.numEntries > static_cast<unsigned>(__builtin_popcount(info.validHooks)) + 1)
            legacyRules_.emplace_back(line);
        }
        fclose(f);
      }
      NftTableNames(fam_.nfproto, nft_, failure);
    });
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    auto list = [&](const std::vector<std::string>& v) {
      Napi::Array a = Napi::Array::New(env, v.size());
      for (size_t i = 0; i < v.size(); i++) a[i] = v[i];
      return a;
    };
    o.Set("legacyTables", list(legacyTables_));
    o.Set("legacyWithRules", list(legacyRules_));
    o.Set("nftTables", list(nft_));
    return o;
  }

 private:
  const Family& fam_;
  NetnsHold netns_;
  std::vector<std::string> legacyTables_, legacyRules_, nft_;
};

}  // namespace

Napi::Value BackendFacts(const Napi::CallbackInfo& info) {
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  auto job = std::make_unique<WhichJob>(fam, info[1].As<Napi::Number>().Int32Value());
  return RunJob(info.Env(), std::move(job), info[2].ToBoolean());
}

}  // namespace iptc
