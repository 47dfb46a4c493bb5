#include "legacy/table_read.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <memory>
#include <string>
#include <vector>

#include "common/netns.h"
#include "common/worker.h"
#include "legacy/blob.h"
#include "legacy/kernel.h"

namespace iptc {

namespace {

template <typename T>
Napi::TypedArrayOf<T> TypedArrayFrom(Napi::Env env, const std::vector<T>& v) {
  auto a = Napi::TypedArrayOf<T>::New(env, v.size());
  if (!v.empty()) memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

}  // namespace

Napi::Object TableToJs(Napi::Env env, std::shared_ptr<const Bytes> buf, size_t at, const TableIndex& index) {
  Napi::Object o = Napi::Object::New(env);
  // The bytes cross without a copy: the Buffer holds a reference to the
  // vector, which others (a known nf_tables table) may share; nothing writes
  // to a table as read. V8 is told of the memory, so that it counts it.
  auto* hold = new std::shared_ptr<const Bytes>(std::move(buf));
  const Bytes& bytes = **hold;
  int64_t size = static_cast<int64_t>(bytes.capacity());
  Napi::MemoryManagement::AdjustExternalMemory(env, size);
  o.Set("blob", Napi::Buffer<char>::New(env, const_cast<char*>(bytes.data()) + at, bytes.size() - at,
                                        [size](Napi::Env e, char*, std::shared_ptr<const Bytes>* h) {
                                          Napi::MemoryManagement::AdjustExternalMemory(e, -size);
                                          delete h;
                                        },
                                        hold));
  o.Set("numEntries", index.numEntries);
  Napi::Array chains = Napi::Array::New(env, index.chains.size());
  for (size_t i = 0; i < index.chains.size(); i++) {
    const ChainIndex& c = index.chains[i];
    Napi::Array a = Napi::Array::New(env, 8);
    a[0u] = c.name;
    a[1u] = c.hook;
    a[2u] = c.policy;
    a[3u] = Napi::BigInt::New(env, static_cast<uint64_t>(c.policyCounters.pcnt));
    a[4u] = Napi::BigInt::New(env, static_cast<uint64_t>(c.policyCounters.bcnt));
    a[5u] = c.footIndex;
    a[6u] = c.first;
    a[7u] = c.count;
    chains[i] = a;
  }
  o.Set("chains", chains);
  o.Set("offsets", TypedArrayFrom(env, index.offsets));
  o.Set("entryIndex", TypedArrayFrom(env, index.entryIndex));
  o.Set("jumps", TypedArrayFrom(env, index.jumps));
  return o;
}

namespace {

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
      KernelTable k(fam_, table_);
      TableInfo info;
      if (!k.Read(info, *entries_, failure)) return;
      IndexTable(fam_, info, entries_->data() + KernelTable::kEntriesAt, entries_->size() - KernelTable::kEntriesAt, index_,
                 failure);
    });
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    if (absent_) {
      o.Set("absent", true);
      return o;
    }
    return TableToJs(env, std::shared_ptr<const Bytes>(std::move(entries_)), KernelTable::kEntriesAt, index_);
  }

 private:
  const Family& fam_;
  std::string table_;
  NetnsHold netns_;
  bool create_;
  bool absent_ = false;
  std::unique_ptr<Bytes> entries_ = std::make_unique<Bytes>();
  TableIndex index_;
};

class ListJob : public Job {
 public:
  ListJob(const Family& fam, int netns) : fam_(fam), netns_(netns) {}
  void Run() override {
    RunInNetns(netns_, failure, [&] {
      FILE* f = fopen(fam_.tablesNames, "re");
      if (!f) {
        if (errno != ENOENT) failure.fromErrno(errno, "open", std::string("cannot list tables: ") + strerror(errno));
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
