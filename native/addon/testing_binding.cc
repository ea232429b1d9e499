// Test-only native resources that exercise the addon's lifetime rules before the runtime
// exists: `addon.testing.startIdleThread()` starts a native thread that waits to be stopped and
// registers it with the env cleanup hook. A worker that exits without stopping it must still
// exit cleanly, because the hook stops and joins the thread (a joinable std::thread destroyed
// without join would terminate the process).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "addon/bindings.h"

namespace constellation::addon {

namespace {

// Process-wide: counts idle threads stopped by a closer (the cleanup hook or `stop()`), so the
// main thread can observe that a worker's cleanup hook ran after the worker is gone.
std::atomic<uint64_t> stopped_by_closer{0};

class IdleThread {
 public:
  IdleThread() : thread_([this] { run(); }) {}
  ~IdleThread() { stop(); }
  IdleThread(const IdleThread&) = delete;
  IdleThread& operator=(const IdleThread&) = delete;

  // Returns true if this call stopped a running thread.
  bool stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return false;
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return true;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [this] { return stopping_; });
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: started after the members it uses exist
};

Napi::Value start_idle_thread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto thread = std::make_shared<IdleThread>();
  AddonData& data = addon_data(env);
  const size_t closer = data.add_closer([thread] {
    if (thread->stop()) stopped_by_closer.fetch_add(1);
  });

  Napi::Object handle = Napi::Object::New(env);
  handle.Set("stop", Napi::Function::New(env, [thread, closer](const Napi::CallbackInfo& call) {
               thread->stop();
               addon_data(call.Env()).remove_closer(closer);
               return call.Env().Undefined();
             }));
  return handle;
}

}  // namespace

void RegisterTesting(Napi::Env env, Napi::Object exports) {
  Napi::Object testing = Napi::Object::New(env);
  testing.Set("startIdleThread", Napi::Function::New(env, start_idle_thread));
  testing.Set("stoppedByCloser", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
                return Napi::Number::New(info.Env(), static_cast<double>(stopped_by_closer.load()));
              }));
  exports.Set("testing", testing);
}

}  // namespace constellation::addon
