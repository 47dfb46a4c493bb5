// One way to run an operation either on the JS thread (the *Sync twins) or
// off it (promises): the baton pattern. A Job copies its inputs in its
// constructor (JS thread), does all the work in Run() (any thread, no N-API),
// and builds the result in Result() (JS thread).
#pragma once
#include <napi.h>

#include <memory>

#include "errors.h"

namespace iptc {

class Job {
 public:
  virtual ~Job() = default;
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;
  Failure failure;
};

class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, std::unique_ptr<Job> job)
      : Napi::AsyncWorker(env), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { job_->Run(); }
  void OnOK() override {
    Napi::Env env = Env();
    // When the environment is going away (a worker thread exiting with a
    // call pending), every N-API call may throw: nothing must escape, or the
    // process aborts.
    try {
      if (job_->failure.failed()) {
        deferred_.Reject(MakeError(env, job_->failure).Value());
        return;
      }
      try {
        deferred_.Resolve(job_->Result(env));
      } catch (const Napi::Error& e) {
        deferred_.Reject(e.Value());
      }
    } catch (...) {
    }
  }
  void OnError(const Napi::Error&) override {}

 private:
  std::unique_ptr<Job> job_;
  Napi::Promise::Deferred deferred_;
};

// Runs now (sync) or queues (async) depending on the `async` flag.
inline Napi::Value RunJob(Napi::Env env, std::unique_ptr<Job> job, bool async) {
  if (async) {
    auto* w = new JobWorker(env, std::move(job));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }
  job->Run();
  if (job->failure.failed()) Throw(env, job->failure);
  return job->Result(env);
}

}  // namespace iptc
