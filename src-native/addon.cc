// Registers the exports; each lives in the file named for its concept.
#include <napi.h>

#include "counters.h"
#include "errors.h"
#include "netns.h"
#include "nft.h"
#include "rule_codec.h"
#include "table_commit.h"
#include "table_read.h"
#include "xtlock.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new iptc::AddonData());
  exports.Set("setErrorClass", Napi::Function::New(env, iptc::SetErrorClass));
  exports.Set("netnsCreate", Napi::Function::New(env, iptc::NetnsCreate));
  exports.Set("netnsOpen", Napi::Function::New(env, iptc::NetnsOpen));
  exports.Set("netnsClose", Napi::Function::New(env, iptc::NetnsClose));
  exports.Set("netnsInode", Napi::Function::New(env, iptc::NetnsInode));
  exports.Set("readTable", Napi::Function::New(env, iptc::ReadTable));
  exports.Set("nftTables", Napi::Function::New(env, iptc::NftTables));
  exports.Set("listTables", Napi::Function::New(env, iptc::ListTables));
  exports.Set("encodeRule", Napi::Function::New(env, iptc::EncodeRule));
  exports.Set("describeEntries", Napi::Function::New(env, iptc::DescribeEntries));
  exports.Set("commitTable", Napi::Function::New(env, iptc::CommitTable));
  exports.Set("lockAcquire", Napi::Function::New(env, iptc::LockAcquire));
  exports.Set("CounterReader", iptc::CounterReader::Define(env));
  exports.Set("lockTry", Napi::Function::New(env, iptc::LockTry));
  exports.Set("lockRelease", Napi::Function::New(env, iptc::LockRelease));
  return exports;
}

}  // namespace

NODE_API_MODULE(iptc, Init)
