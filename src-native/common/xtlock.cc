#include "xtlock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <memory>

#include "worker.h"

namespace iptc {

static int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

XtablesLock::XtablesLock(const std::string& path, int timeoutMs, Failure& failure) {
  if (path.empty()) {
    skipped_ = true;
    return;
  }
  int fd = open(path.c_str(), O_CREAT | O_RDONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    failure.fromErrno(e, "open", "cannot open the xtables lock " + path + ": " + strerror(e));
    return;
  }
  // Poll with LOCK_NB rather than block: a blocking flock cannot time out
  // without signals, and signals belong to Node.
  int64_t deadline = NowMs() + (timeoutMs < 0 ? 0 : timeoutMs);
  useconds_t pause = 200;
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      fd_ = fd;
      return;
    }
    int e = errno;
    if (e != EWOULDBLOCK && e != EINTR) {
      close(fd);
      failure.fromErrno(e, "flock", "cannot take the xtables lock " + path + ": " + strerror(e));
      return;
    }
    if (timeoutMs >= 0 && NowMs() >= deadline) {
      close(fd);
      failure.set("ERR_IPTC_LOCK_TIMEOUT",
                  "another process holds the xtables lock " + path + " (waited " + std::to_string(timeoutMs) +
                      " ms; raise lockTimeout to wait longer)",
                  EWOULDBLOCK, "flock");
      return;
    }
    usleep(pause);
    if (pause < 20000) pause *= 2;
  }
}

XtablesLock::~XtablesLock() {
  if (fd_ >= 0) close(fd_);
}

namespace {

class LockJob : public Job {
 public:
  LockJob(std::string path, int timeout) : path_(std::move(path)), timeout_(timeout) {}
  void Run() override {
    XtablesLock lock(path_, timeout_, failure);
    fd_ = lock.release();
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, fd_); }

 private:
  std::string path_;
  int timeout_;
  int fd_ = -1;
};

}  // namespace

Napi::Value LockAcquire(const Napi::CallbackInfo& info) {
  auto job = std::make_unique<LockJob>(info[0].As<Napi::String>(), info[1].As<Napi::Number>().Int32Value());
  return RunJob(info.Env(), std::move(job), info[2].ToBoolean());
}

Napi::Value LockTry(const Napi::CallbackInfo& info) {
  Failure f;
  XtablesLock lock(info[0].As<Napi::String>(), 0, f);
  if (f.failed()) {
    if (f.code == "ERR_IPTC_LOCK_TIMEOUT") return Napi::Number::New(info.Env(), -1);
    Throw(info.Env(), f);
  }
  return Napi::Number::New(info.Env(), lock.release());
}

Napi::Value LockRelease(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd >= 0) close(fd);
  return info.Env().Undefined();
}

}  // namespace iptc
