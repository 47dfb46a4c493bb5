#include "xt/parse.h"

#include <string.h>

#include "xt/parse_cache.h"
#include "xt/xt_glue.h"
#include "xt/xtables.h"

namespace iptc {

bool ParseBatch(const Family& fam, const std::string& table, const RuleBatch& batch, ParsedRules& out,
                Failure& failure) {
  out = ParsedRules();
  out.perRule.reserve(batch.counts.size());
  out.offsets.reserve(batch.counts.size());
  out.warnings.reserve(batch.counts.size());
  out.bytes.reserve(batch.counts.size() * 256);
  XtGuard guard(failure);
  if (!guard.ok()) return false;
  // getopt wants writable char*: one copy of all words, split in place.
  std::string store(batch.words ? batch.words : "", batch.size);
  std::vector<char*> argv;
  char program[] = "iptables";
  size_t at = 0;
  for (size_t r = 0; r < batch.counts.size(); r++) {
    argv.clear();
    argv.push_back(program);
    for (uint32_t w = 0; w < batch.counts[r]; w++) {
      if (at > store.size()) {
        failure.set("ERR_IPTC_ARGUMENT", "the batch holds fewer words than its counts say");
        failure.index = static_cast<int>(r);
        return false;
      }
      argv.push_back(&store[at]);
      size_t end = store.find('\0', at);
      at = end == std::string::npos ? store.size() + 1 : end + 1;
    }
    argv.push_back(nullptr);
    bool jumpIsChain = r < batch.chainJumps.size() && batch.chainJumps[r];
    if (!ParseOneLocked(fam, table, argv, jumpIsChain, out, failure)) {
      failure.index = static_cast<int>(r);
      return false;
    }
    if (2 * r + 1 < batch.counters.size()) {
      for (uint32_t i = out.offsets.size() - out.perRule.back(); i < out.offsets.size(); i++)
        fam.setCounters(out.bytes.data() + out.offsets[i], xt_counters{batch.counters[2 * r], batch.counters[2 * r + 1]});
    }
  }
  return true;
}

bool ParseOneLocked(const Family& fam, const std::string& table, std::vector<char*>& argv, bool jumpIsChain,
                    ParsedRules& out, Failure& failure) {
  // argv: a program name, the words, and a nullptr getopt does not count.
  size_t nwords = argv.size() - 2;
  ParseCache& cache = ParseCache::Get();
  static thread_local std::string key;
  uint64_t hash = 0;
  bool pure = ParseCache::KeyOf(fam, table, argv.data() + 1, nwords, jumpIsChain, key, hash);
  ParseCache::Hit hit;
  if (pure && cache.Find(key, hash, hit)) {
    const char* at = hit.bytes;
    for (uint32_t i = 0; i < hit.count; i++) {
      out.offsets.push_back(static_cast<uint32_t>(out.bytes.size()));
      out.bytes.insert(out.bytes.end(), at, at + hit.sizes[i]);
      at += hit.sizes[i];
    }
    out.perRule.push_back(hit.count);
    out.warnings.push_back(*hit.warnings);
    return true;
  }
  xtg_parsed parsed{};
  char err[XTG_ERRLEN];
  if (xtg_parse_rule(fam.nfproto, table.c_str(), static_cast<int>(argv.size() - 1), argv.data(), jumpIsChain, &parsed,
                     err, sizeof(err)) != 0) {
    failure.set("ERR_IPTC_PARSE", err);
    return false;
  }
  size_t first = out.bytes.size();
  for (int i = 0; i < parsed.n_entries; i++) {
    out.offsets.push_back(static_cast<uint32_t>(out.bytes.size()));
    const char* e = static_cast<const char*>(parsed.entries[i]);
    out.bytes.insert(out.bytes.end(), e, e + parsed.sizes[i]);
  }
  out.perRule.push_back(static_cast<uint32_t>(parsed.n_entries));
  out.warnings.emplace_back(parsed.warnings ? parsed.warnings : "");
  if (pure && cache.Again(hash))
    cache.Put(key, hash, out.bytes.data() + first, parsed.sizes, static_cast<uint32_t>(parsed.n_entries),
              out.warnings.back());
  xtg_free_parsed(&parsed);
  return true;
}

void ReadBatch(Napi::Value words, Napi::Value counts, Napi::Value chainJumps, RuleBatch& batch) {
  if (words.IsBuffer()) {
    auto b = words.As<Napi::Buffer<char>>();
    batch.words = b.Data();
    batch.size = b.Length();
  } else {
    batch.own = words.As<Napi::String>();
    batch.words = batch.own.data();
    batch.size = batch.own.size();
  }
  Napi::Uint32Array c = counts.As<Napi::Uint32Array>();
  batch.counts.assign(c.Data(), c.Data() + c.ElementLength());
  Napi::Uint8Array j = chainJumps.As<Napi::Uint8Array>();
  batch.chainJumps.assign(j.Data(), j.Data() + j.ElementLength());
}

Napi::Value ParseRules(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  std::string table = info[1].As<Napi::String>();
  RuleBatch batch;
  ReadBatch(info[2], info[3], info[4], batch);
  ParsedRules out;
  Failure failure;
  if (!ParseBatch(fam, table, batch, out, failure)) Throw(env, failure);
  Napi::Object o = Napi::Object::New(env);
  o.Set("bytes", Napi::Buffer<char>::Copy(env, out.bytes.data(), out.bytes.size()));
  auto offsets = Napi::Uint32Array::New(env, out.offsets.size());
  if (!out.offsets.empty()) memcpy(offsets.Data(), out.offsets.data(), out.offsets.size() * sizeof(uint32_t));
  o.Set("offsets", offsets);
  auto perRule = Napi::Uint32Array::New(env, out.perRule.size());
  if (!out.perRule.empty()) memcpy(perRule.Data(), out.perRule.data(), out.perRule.size() * sizeof(uint32_t));
  o.Set("perRule", perRule);
  Napi::Array warnings = Napi::Array::New(env, out.warnings.size());
  for (size_t i = 0; i < out.warnings.size(); i++) warnings[i] = out.warnings[i];
  o.Set("warnings", warnings);
  return o;
}

Napi::Value TargetExists(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  std::string name = info[1].As<Napi::String>();
  Failure failure;
  bool exists = false;
  {
    XtGuard guard(failure);
    if (guard.ok()) exists = xtg_target_exists(fam.nfproto, name.c_str()) != 0;
  }
  if (failure.failed()) Throw(env, failure);
  return Napi::Boolean::New(env, exists);
}

}  // namespace iptc
