// Counter polling without libiptc: one raw IPT_SO_GET_ENTRIES read per poll
// on a socket opened once inside the namespace, the counters of every rule
// and policy copied into one array. The layout (which entry is which rule of
// which chain, and a digest of each rule) is rebuilt only when the table's
// rules change, which a comparison with the previous read (counters aside)
// tells.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "common/errors.h"
#include "xt/family.h"

namespace iptc {

struct CounterLayout {
  struct Chain {
    std::string name;
    bool builtin = false;
    uint32_t first = 0;  // slot of rule 1
    uint32_t count = 0;  // rules
    int32_t policy = -1; // slot of the policy, built-in chains only
  };
  std::vector<Chain> chains;
  std::vector<uint64_t> keys;  // per slot: digest of the rule (or of the chain, for a policy)
  std::vector<uint32_t> offsets;  // per slot: where its entry is in the read buffer
  uint32_t version = 0;
};

class CounterReader : public Napi::ObjectWrap<CounterReader> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit CounterReader(const Napi::CallbackInfo& info);
  ~CounterReader() override;

  // Run on any thread, one at a time per reader (JavaScript serialises).
  // Fills counters (2 per slot); sets changed when the layout was rebuilt.
  void Poll(std::vector<uint64_t>& counters, bool& changed, Failure& failure);
  const CounterLayout& layout() const { return layout_; }
  void done() { busy_ = false; }
  bool TakeNewLayout() {
    bool fresh = layout_.version != sentVersion_;
    sentVersion_ = layout_.version;
    return fresh;
  }

 private:
  Napi::Value Read(const Napi::CallbackInfo& info);  // (async) -> {counters, layout?}
  Napi::Value Close(const Napi::CallbackInfo& info);
  bool Fetch(std::vector<char>& buf, Failure& failure);
  void BuildLayout(const std::vector<char>& buf);
  bool SameRulesCopying(const std::vector<char>& a, const std::vector<char>& b, std::vector<uint64_t>& counters) const;

  const Family* fam_;
  std::string table_;
  int fd_ = -1;
  bool busy_ = false;
  std::vector<char> bufs_[2];
  int cur_ = -1;  // which buffer holds the last read
  unsigned hookEntry_[5]{}, underflow_[5]{}, validHooks_ = 0;
  CounterLayout layout_;
  uint32_t sentVersion_ = 0;
};

Napi::Object LayoutToJs(Napi::Env env, const CounterLayout& l);

}  // namespace iptc
