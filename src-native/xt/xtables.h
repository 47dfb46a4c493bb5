// The process-wide lock. libxtables (one global family, one option table,
// one error hook) and libiptc are not thread safe: every call into either
// happens while holding XtGuard, which also initialises libxtables once.
#pragma once
#include <mutex>

#include "common/errors.h"

namespace iptc {

std::mutex& GlobalMutex();

// Lock, and make sure libxtables is initialised. If init failed, `failure`
// says why and ok() is false.
class XtGuard {
 public:
  explicit XtGuard(Failure& failure);
  bool ok() const { return ok_; }

 private:
  std::lock_guard<std::mutex> lock_;
  bool ok_;
};

}  // namespace iptc
