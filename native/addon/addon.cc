// Module initialiser and environment lifetime.
#include <memory>
#include <utility>

#include "addon/bindings.h"
#include "wire/messages.h"

namespace constellation::addon {

size_t AddonData::add_closer(Closer closer) {
  std::lock_guard lock(mutex_);
  const size_t handle = next_handle_++;
  closers_.emplace_back(handle, std::move(closer));
  return handle;
}

void AddonData::remove_closer(size_t handle) {
  std::lock_guard lock(mutex_);
  std::erase_if(closers_, [handle](const auto& entry) { return entry.first == handle; });
}

size_t AddonData::size() {
  std::lock_guard lock(mutex_);
  return closers_.size();
}

void AddonData::close_all() {
  std::vector<std::pair<size_t, Closer>> closers;
  {
    std::lock_guard lock(mutex_);
    closers.swap(closers_);
  }
  for (auto& entry : closers) entry.second();
}

AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

namespace {

void cleanup_hook(void* data) { static_cast<AddonData*>(data)->close_all(); }

Napi::Value active_closers(const Napi::CallbackInfo& info) {
  // Test hook: how many native resources are registered for cleanup in this environment.
  return Napi::Number::New(info.Env(), static_cast<double>(addon_data(info.Env()).size()));
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto data = std::make_unique<AddonData>();
  AddonData* raw = data.get();
  // Instance data is freed by Node after cleanup hooks have run.
  env.SetInstanceData<AddonData>(data.release());
  napi_add_env_cleanup_hook(env, cleanup_hook, raw);
  exports.Set("activeClosers", Napi::Function::New(env, active_closers));
  RegisterCodec(env, exports);
  RegisterEngine(env, exports);
  RegisterSim(env, exports);
  RegisterCluster(env, exports);
  RegisterTesting(env, exports);
  RegisterEnvelope(env, exports);
  exports.Set("protocolVersion", Napi::Number::New(env, wire::kProtocolVersion));
  return exports;
}

}  // namespace constellation::addon

static Napi::Object InitConstellation(Napi::Env env, Napi::Object exports) {
  return constellation::addon::Init(env, exports);
}

NODE_API_MODULE(constellation, InitConstellation)
