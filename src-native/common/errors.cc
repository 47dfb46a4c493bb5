#include "errors.h"

#include <string.h>

namespace iptc {

void Failure::fromErrno(int e, const std::string& sys, const std::string& msg) {
  const char* name = strerrorname_np(e);
  set(name ? name : "EUNKNOWN", msg, e, sys);
}

Napi::Error MakeError(Napi::Env env, const Failure& f) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data && !data->errorClass.IsEmpty()) {
    Napi::Object props = Napi::Object::New(env);
    props.Set("code", f.code);
    if (f.errnum) props.Set("errno", Napi::Number::New(env, f.errnum));
    if (!f.syscall.empty()) props.Set("syscall", f.syscall);
    if (f.index >= 0) props.Set("index", Napi::Number::New(env, f.index));
    if (f.item >= 0) props.Set("item", Napi::Number::New(env, f.item));
    if (f.line >= 0) props.Set("line", Napi::Number::New(env, f.line));
    Napi::Value err = data->errorClass.New({Napi::String::New(env, f.message), props});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, f.message);
  err.Set("code", f.code);
  if (f.errnum) err.Set("errno", Napi::Number::New(env, f.errnum));
  return err;
}

void Throw(Napi::Env env, const Failure& f) { throw MakeError(env, f); }

void SetErrorClass(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  data->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
}

}  // namespace iptc
