// Network namespaces without spawning anything. A namespace is held as an
// open fd on its nsfs file. Work for a namespace runs on a short-lived
// thread that setns()es into it: the JavaScript thread (and libuv's pool)
// never change namespace, and a thread that dies takes its namespace along.
#pragma once
#include <napi.h>

#include <functional>

#include "errors.h"

namespace iptc {

// fd < 0 means "the caller's own namespace": fn runs on the calling thread.
void RunInNetns(int fd, Failure& failure, const std::function<void()>& fn);

Napi::Value NetnsCreate(const Napi::CallbackInfo& info);  // () -> fd
Napi::Value NetnsOpen(const Napi::CallbackInfo& info);    // (path) -> fd
Napi::Value NetnsClose(const Napi::CallbackInfo& info);   // (fd)
Napi::Value NetnsInode(const Napi::CallbackInfo& info);   // (fd) -> bigint inode

}  // namespace iptc
