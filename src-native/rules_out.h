// The columnar form in which rules cross into JavaScript: per rule, the raw
// address/interface header (ipt_ip or ip6t_ip6 bytes), counters, the number
// of matches, and NUL-separated text fields (match name, match save text,
// ..., target name, target save text) exactly as libxtables prints them.
// src/decode.ts turns it into rule objects. One buffer per table, not one
// object per rule, keeps the crossing cheap.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "errors.h"
#include "family.h"
#include "xt_glue.h"

namespace iptc {

struct RulesOut {
  std::string ip;                 // n * family.ipSize bytes
  std::vector<uint64_t> counters;  // 2 per rule
  std::vector<uint32_t> matchCounts;
  std::vector<uint8_t> targetKinds;  // 1: extension target
  xtg_buf text{};
  size_t count = 0;

  RulesOut() = default;
  RulesOut(const RulesOut&) = delete;
  ~RulesOut() { xtg_buf_free(&text); }

  // Extension output is captured for a whole batch: hold XtGuard, make a
  // Capture, Add every entry, let the Capture go (still under the guard).
  class Capture {
   public:
    Capture(RulesOut& out, Failure& failure);
    ~Capture();
    bool ok() const { return ok_; }

   private:
    RulesOut& out_;
    bool ok_;
  };
  // On failure fills `failure` and returns false.
  bool Add(const Family& fam, const void* entry, const char* targetName, Failure& failure);
  void Fill(Napi::Env env, Napi::Object target) const;
};

// A 64-bit digest of entry bytes, ignoring the counters: two snapshots of a
// table with equal digests hold the same rules.
uint64_t DigestEntry(const Family& fam, const void* entry, uint64_t h);
uint64_t DigestBytes(const void* p, size_t n, uint64_t h);

}  // namespace iptc
