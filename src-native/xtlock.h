// The xtables lock: the flock(2) on /run/xtables.lock (or $XTABLES_LOCKFILE)
// that iptables, iptables-restore and iptc-node hold while they read, change
// and commit a table, so none loses another's update.
#pragma once
#include <string>

#include "errors.h"

namespace iptc {

class XtablesLock {
 public:
  // timeoutMs < 0: wait forever; 0: try once.
  XtablesLock(const std::string& path, int timeoutMs, Failure& failure);
  ~XtablesLock();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace iptc
