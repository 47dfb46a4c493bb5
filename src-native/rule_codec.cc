#include "rule_codec.h"

#include <string.h>

#include <string>
#include <vector>

#include "errors.h"
#include "family.h"
#include "rules_out.h"
#include "xt_glue.h"
#include "xtables.h"

namespace iptc {

Napi::Value EncodeRule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  std::string table = info[1].As<Napi::String>();
  Napi::Array words = info[2].As<Napi::Array>();
  bool jumpIsChain = info[3].ToBoolean();

  // getopt wants writable char*; "iptables" stands in for argv[0].
  std::vector<std::string> store;
  store.reserve(words.Length() + 1);
  store.emplace_back("iptables");
  for (uint32_t i = 0; i < words.Length(); i++) store.push_back(words.Get(i).As<Napi::String>());
  std::vector<char*> argv;
  for (auto& s : store) argv.push_back(s.data());
  argv.push_back(nullptr);

  Failure failure;
  xtg_parsed parsed{};
  {
    XtGuard guard(failure);
    char err[XTG_ERRLEN];
    if (guard.ok() && xtg_parse_rule(fam.nfproto, table.c_str(), static_cast<int>(store.size()), argv.data(),
                                     jumpIsChain, &parsed, err, sizeof(err)) != 0)
      failure.set("ERR_IPTC_PARSE", err);
  }
  if (failure.failed()) Throw(env, failure);
  size_t total = 0;
  for (int i = 0; i < parsed.n_entries; i++) total += parsed.sizes[i];
  Napi::Buffer<char> entries = Napi::Buffer<char>::New(env, total);
  for (int i = 0, at = 0; i < parsed.n_entries; at += parsed.sizes[i], i++)
    memcpy(entries.Data() + at, parsed.entries[i], parsed.sizes[i]);
  Napi::Object o = Napi::Object::New(env);
  o.Set("entries", entries);
  o.Set("count", parsed.n_entries);
  if (parsed.standard) o.Set("verdict", std::string(parsed.target_name));
  if (parsed.warnings) o.Set("warnings", std::string(parsed.warnings));
  xtg_free_parsed(&parsed);
  return o;
}

Napi::Value DescribeEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  Napi::Buffer<char> buf = info[1].As<Napi::Buffer<char>>();
  Napi::Array verdicts = info[2].As<Napi::Array>();
  // Copy: the verdict entries are edited below, and the caller's bytes stay as they are.
  std::string bytes(buf.Data(), buf.Length());
  std::vector<std::string> names(verdicts.Length());
  std::vector<bool> isVerdict(verdicts.Length());
  for (uint32_t i = 0; i < verdicts.Length(); i++) {
    Napi::Value v = verdicts.Get(i);
    isVerdict[i] = v.IsString();
    if (isVerdict[i]) names[i] = v.As<Napi::String>();
  }
  Failure failure;
  RulesOut rules;
  {
    XtGuard guard(failure);
    if (guard.ok()) {
      RulesOut::Capture capture(rules, failure);
      size_t off = 0;
      for (uint32_t i = 0; capture.ok() && !failure.failed() && i < verdicts.Length(); i++) {
        if (off + fam.headerSize > bytes.size()) {
          failure.set("ERR_IPTC_DECODE", "entries end early");
          break;
        }
        char* e = &bytes[off];
        size_t next = fam.nextOffset(e);
        if (next < fam.headerSize || off + next > bytes.size()) {
          failure.set("ERR_IPTC_DECODE", "bad entry size");
          break;
        }
        if (isVerdict[i]) {
          // As read back from the kernel, a verdict's target has no name and
          // libiptc names the verdict: describe it that way.
          auto* t = reinterpret_cast<xt_entry_target*>(e + fam.targetOffset(e));
          memset(t->u.user.name, 0, sizeof(t->u.user.name));
        }
        rules.Add(fam, e, isVerdict[i] ? names[i].c_str() : nullptr, failure);
        off += next;
      }
    }
  }
  if (failure.failed()) Throw(env, failure);
  Napi::Object o = Napi::Object::New(env);
  rules.Fill(env, o);
  return o;
}

}  // namespace iptc
