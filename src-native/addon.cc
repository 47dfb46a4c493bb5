// Registers the exports; each lives in the file named for its concept.
#include <napi.h>

#include "common/errors.h"
#include "common/netns.h"
#include "common/xtlock.h"
#include "legacy/counters.h"
#include "legacy/table_commit.h"
#include "legacy/table_read.h"
#include "nft/nft.h"
#include "nft/counters.h"
#include "nft/known.h"
#include "nft/table_commit.h"
#include "nft/table_read.h"
#include "which.h"
#include "xt/parse.h"
#include "xt/print.h"
#include "xt/restore.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new iptc::AddonData());
  exports.Set("setErrorClass", Napi::Function::New(env, iptc::SetErrorClass));
  exports.Set("netnsCreate", Napi::Function::New(env, iptc::NetnsCreate));
  exports.Set("netnsOpen", Napi::Function::New(env, iptc::NetnsOpen));
  exports.Set("netnsClose", Napi::Function::New(env, iptc::NetnsClose));
  exports.Set("netnsInode", Napi::Function::New(env, iptc::NetnsInode));
  exports.Set("readTable", Napi::Function::New(env, iptc::ReadTable));
  exports.Set("listTables", Napi::Function::New(env, iptc::ListTables));
  exports.Set("commitTable", Napi::Function::New(env, iptc::CommitTable));
  exports.Set("parseRules", Napi::Function::New(env, iptc::ParseRules));
  exports.Set("targetExists", Napi::Function::New(env, iptc::TargetExists));
  exports.Set("describeRules", Napi::Function::New(env, iptc::DescribeRulesJs));
  exports.Set("listRules", Napi::Function::New(env, iptc::ListRulesJs));
  exports.Set("saveRules", Napi::Function::New(env, iptc::SaveRulesJs));
  exports.Set("compileRestore", Napi::Function::New(env, iptc::CompileRestore));
  exports.Set("nftTables", Napi::Function::New(env, iptc::NftTables));
  exports.Set("nftReadTable", Napi::Function::New(env, iptc::NftReadTable));
  exports.Set("nftCounters", Napi::Function::New(env, iptc::NftCounters));
  exports.Set("nftCommitTable", Napi::Function::New(env, iptc::NftCommitTable));
  exports.Set("nftKnownStats", Napi::Function::New(env, iptc::NftKnownStats));
  exports.Set("backendFacts", Napi::Function::New(env, iptc::BackendFacts));
  exports.Set("lockAcquire", Napi::Function::New(env, iptc::LockAcquire));
  exports.Set("lockTry", Napi::Function::New(env, iptc::LockTry));
  exports.Set("lockRelease", Napi::Function::New(env, iptc::LockRelease));
  exports.Set("CounterReader", iptc::CounterReader::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(iptc, Init)
