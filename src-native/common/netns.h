// Network namespaces without spawning anything. A namespace is held as an
// open fd on its nsfs file. Work for a namespace runs on a short-lived
// thread that setns()es into it: the JavaScript thread (and libuv's pool)
// never change namespace, and a thread that dies takes its namespace along.
#pragma once
#include <napi.h>

#include <functional>

#include "errors.h"

namespace iptc {

// fd -1 means "the caller's own namespace": fn runs on the calling thread.
// Any other negative fd is a namespace that could not be held: an error.
void RunInNetns(int fd, Failure& failure, const std::function<void()>& fn);

// A job's own hold on a namespace, taken when the job is made (on the JS
// thread): a dup of the caller's fd, so that closing the Netns while the job
// waits in the pool cannot let the fd number name another namespace.
class NetnsHold {
 public:
  explicit NetnsHold(int fd);
  ~NetnsHold();
  NetnsHold(const NetnsHold&) = delete;
  NetnsHold& operator=(const NetnsHold&) = delete;
  operator int() const { return fd_; }

 private:
  int fd_;
};

Napi::Value NetnsCreate(const Napi::CallbackInfo& info);  // () -> fd
Napi::Value NetnsOpen(const Napi::CallbackInfo& info);    // (path) -> fd
Napi::Value NetnsClose(const Napi::CallbackInfo& info);   // (fd)
Napi::Value NetnsInode(const Napi::CallbackInfo& info);   // (fd) -> bigint inode

}  // namespace iptc
