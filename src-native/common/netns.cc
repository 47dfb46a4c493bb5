#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/nsfs.h>
#include <unistd.h>

#include <thread>

#include "nft/watch.h"

namespace iptc {

NetnsHold::NetnsHold(int fd) : fd_(-1) {
  if (fd >= 0) {
    fd_ = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) fd_ = -2;  // closed already: RunInNetns reports it
  }
}

NetnsHold::~NetnsHold() {
  if (fd_ >= 0) close(fd_);
}

void RunInNetns(int fd, Failure& failure, const std::function<void()>& fn) {
  if (fd == -1) {
    fn();
    return;
  }
  if (fd < 0) {
    failure.set("ERR_IPTC_NETNS", "the network namespace is closed", EBADF, "dup");
    return;
  }
  std::thread t([&] {
    if (setns(fd, CLONE_NEWNET) != 0) {
      int e = errno;
      failure.fromErrno(e, "setns",
                        std::string("cannot enter the network namespace: ") + strerror(e) +
                            (e == EPERM ? " (needs CAP_SYS_ADMIN)" : "") +
                            (e == EINVAL || e == EBADF ? " (is it closed or not a network namespace?)" : ""));
      return;
    }
    fn();
  });
  t.join();
}

Napi::Value NetnsCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Failure f;
  int fd = -1;
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      int e = errno;
      f.fromErrno(e, "unshare",
                  std::string("cannot create a network namespace: ") + strerror(e) +
                      (e == EPERM ? " (needs CAP_SYS_ADMIN)" : ""));
      return;
    }
    fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) f.fromErrno(errno, "open", std::string("cannot open the new namespace: ") + strerror(errno));
  });
  t.join();
  if (f.failed()) Throw(env, f);
  return Napi::Number::New(env, fd);
}

Napi::Value NetnsOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    Failure f;
    int e = errno;
    f.fromErrno(e, "open", "cannot open network namespace " + path + ": " + strerror(e));
    Throw(env, f);
  }
  // Refuse anything that is not a network namespace now, not at first use.
  // (ioctl, never setns: this is the JavaScript thread.)
  if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
    close(fd);
    Failure f;
    f.set("ERR_IPTC_NETNS", path + " is not a network namespace", EINVAL, "ioctl");
    Throw(env, f);
  }
  return Napi::Number::New(env, fd);
}

Napi::Value NetnsClose(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd >= 0) {
    NftWatchRelease(fd);  // a watch socket must not keep the namespace alive
    close(fd);
  }
  return info.Env().Undefined();
}

Napi::Value NetnsInode(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct stat st;
  if (fstat(fd, &st) != 0) {
    Failure f;
    f.fromErrno(errno, "fstat", std::string("namespace fd: ") + strerror(errno));
    Throw(info.Env(), f);
  }
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(st.st_ino));
}

}  // namespace iptc
