// N-API glue shared by the binding files. Each layer exposed to JavaScript has one
// `Register*` function; addon.cc calls them all from the module initialiser.
#pragma once

#include <napi.h>

#include <functional>
#include <mutex>
#include <vector>

namespace constellation::addon {

// Per-environment state (one per main thread or worker). Anything that owns a native thread
// registers a closer here; the env cleanup hook runs every closer, so a worker that exits
// without shutting its clusters down still stops and joins their threads.
class AddonData {
 public:
  using Closer = std::function<void()>;
  // Returns a handle for `remove_closer`.
  size_t add_closer(Closer closer);
  void remove_closer(size_t handle);
  void close_all();
  size_t size();

 private:
  std::mutex mutex_;
  size_t next_handle_ = 1;
  std::vector<std::pair<size_t, Closer>> closers_;
};

AddonData& addon_data(Napi::Env env);
Napi::Object Init(Napi::Env env, Napi::Object exports);

void RegisterCodec(Napi::Env env, Napi::Object exports);
void RegisterEngine(Napi::Env env, Napi::Object exports);
void RegisterSim(Napi::Env env, Napi::Object exports);
void RegisterCluster(Napi::Env env, Napi::Object exports);
void RegisterTesting(Napi::Env env, Napi::Object exports);
void RegisterEnvelope(Napi::Env env, Napi::Object exports);

}  // namespace constellation::addon
