// Errors that cross into JavaScript. Native code records what failed in a
// plain struct (safe off the JS thread); on the JS thread it becomes an
// instance of the IptcError class that src/errors.ts injects at load.
#pragma once
#include <napi.h>
#include <string>

namespace iptc {

struct Failure {
  std::string code;     // 'EPERM', 'ERR_IPTC_PARSE', ...
  int errnum = 0;       // errno where one applies, else 0
  std::string syscall;  // or the libiptc/libxtables call
  std::string message;  // what a person reads
  int index = -1;       // which item of a batch failed, where that applies
  int item = -1;        // and which part of that item
  int line = -1;        // the line of restore input, where one is to blame

  bool failed() const { return !code.empty(); }
  void set(std::string c, std::string msg, int e = 0, std::string sys = "") {
    code = std::move(c); message = std::move(msg); errnum = e; syscall = std::move(sys);
  }
  // From errno: code is the errno name (ENOENT, ...).
  void fromErrno(int e, const std::string& sys, const std::string& msg);
};

// Kept per environment (worker_threads each have their own).
struct AddonData {
  Napi::FunctionReference errorClass;
};

Napi::Error MakeError(Napi::Env env, const Failure& f);
[[noreturn]] void Throw(Napi::Env env, const Failure& f);
void SetErrorClass(const Napi::CallbackInfo& info);

}  // namespace iptc
