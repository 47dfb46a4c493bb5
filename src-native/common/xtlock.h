// The xtables lock: the flock(2) on /run/xtables.lock (or $XTABLES_LOCKFILE)
// that iptables, iptables-restore and iptc-node hold while they read, change
// and commit a table, so none loses another's update.
#pragma once
#include <string>

#include "errors.h"

namespace iptc {

class XtablesLock {
 public:
  // An empty path means the caller already holds the lock: take nothing.
  // timeoutMs < 0: wait forever; 0: try once.
  XtablesLock(const std::string& path, int timeoutMs, Failure& failure);
  ~XtablesLock();
  bool held() const { return fd_ >= 0 || skipped_; }
  // Hands the descriptor over (for JavaScript to hold across several calls).
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
  bool skipped_ = false;
};

}  // namespace iptc

#include <napi.h>

namespace iptc {

// lockAcquire(path, timeoutMs, async) -> fd ; lockTry(path) -> fd, or -1 when
// another process holds it (never waits) ; lockRelease(fd)
Napi::Value LockAcquire(const Napi::CallbackInfo& info);
Napi::Value LockTry(const Napi::CallbackInfo& info);
Napi::Value LockRelease(const Napi::CallbackInfo& info);

}  // namespace iptc
