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

Napi::Value ParseRule(const Napi::CallbackInfo& info) {
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
  RulesOut rules;
  {
    XtGuard guard(failure);
    if (guard.ok()) {
      char err[XTG_ERRLEN];
      if (xtg_parse_rule(fam.nfproto, table.c_str(), static_cast<int>(store.size()), argv.data(), jumpIsChain,
                         &parsed, err, sizeof(err)) != 0) {
        failure.set("ERR_IPTC_PARSE", err);
      } else {
        for (int i = 0; i < parsed.n_entries && !failure.failed(); i++) {
          if (!parsed.standard) {
            rules.Add(fam, parsed.entries[i], nullptr, failure);
            continue;
          }
          // As read back from the kernel, a verdict's target has no name
          // and libiptc names the verdict: describe it that way.
          std::string copy(static_cast<char*>(parsed.entries[i]), parsed.sizes[i]);
          auto* t = reinterpret_cast<xt_entry_target*>(&copy[fam.targetOffset(copy.data())]);
          memset(t->u.user.name, 0, sizeof(t->u.user.name));
          rules.Add(fam, copy.data(), parsed.target_name, failure);
        }
      }
    }
  }
  if (failure.failed()) {
    xtg_free_parsed(&parsed);
    Throw(env, failure);
  }
  Napi::Object o = Napi::Object::New(env);
  Napi::Array entries = Napi::Array::New(env, parsed.n_entries);
  for (int i = 0; i < parsed.n_entries; i++)
    entries[i] = Napi::Buffer<char>::Copy(env, static_cast<char*>(parsed.entries[i]), parsed.sizes[i]);
  o.Set("entries", entries);
  rules.Fill(env, o);
  if (parsed.warnings) o.Set("warnings", std::string(parsed.warnings));
  xtg_free_parsed(&parsed);
  return o;
}

}  // namespace iptc
