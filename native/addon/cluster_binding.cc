// `addon.NativeCluster`: one runtime (native/runtime) as a JavaScript object; and `addon.echo`,
// the throughput harness bench/echo.mjs uses. The TypeScript `Cluster` class validates
// everything before it gets here and owns promises and tokens; this file only converts values
// and moves batches across threads.
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "addon/bindings.h"
#include "core/config.h"
#include "runtime/echo.h"
#include "runtime/runtime.h"
#include "runtime/socket_address.h"
#include "wire/envelope.h"
#include "wire/keyring.h"

namespace constellation::addon {

namespace {

using runtime::Batch;
using runtime::Runtime;

std::string hex_id(uint64_t id) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(id));
  return buffer;
}

double get_number(const Napi::Object& object, const char* key, double fallback) {
  const Napi::Value value = object.Get(key);
  return value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : fallback;
}

uint64_t get_u64(const Napi::Object& object, const char* key, uint64_t fallback) {
  const Napi::Value value = object.Get(key);
  if (value.IsBigInt()) {
    bool lossless = false;
    return value.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (value.IsNumber()) {
    const double d = value.As<Napi::Number>().DoubleValue();
    return d > 0 ? static_cast<uint64_t>(d) : 0;
  }
  return fallback;
}

std::string get_string(const Napi::Object& object, const char* key) {
  const Napi::Value value = object.Get(key);
  return value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string();
}

wire::Address parse_address(Napi::Env env, const std::string& ip, double port, const char* what) {
  const auto address = runtime::parse_ip(ip, static_cast<uint16_t>(port));
  if (!address || port < 0 || port > 65535 || std::floor(port) != port) {
    throw Napi::TypeError::New(env, std::string(what) + ": not a numeric IP address and port");
  }
  return *address;
}

// Errors about keys name the key by its id at most; the bytes never reach a message.
[[noreturn]] void keyring_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  throw e;
}

// `keys`: an array of Buffers (the TypeScript layer has decoded base64 and checked lengths);
// the first becomes primary. Null when there are none: no encryption.
std::shared_ptr<wire::SharedKeyring> read_keys(Napi::Env env, const Napi::Value& value) {
  if (!value.IsArray() || value.As<Napi::Array>().Length() == 0) return nullptr;
  const Napi::Array list = value.As<Napi::Array>();
  wire::Keyring ring;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const Napi::Value item = list.Get(i);
    if (!item.IsBuffer()) keyring_error(env, "ERR_INVALID_CONFIG", "keys: not a Buffer");
    const auto buffer = item.As<Napi::Buffer<uint8_t>>();
    const wire::KeyringError error = ring.add({buffer.Data(), buffer.Length()});
    if (error != wire::KeyringError::kNone) {
      keyring_error(env, "ERR_INVALID_CONFIG",
                    "keys[" + std::to_string(i) + "]: " + wire::keyring_error_name(error));
    }
  }
  return std::make_shared<wire::SharedKeyring>(std::move(ring));
}

// A key named by its id (8 hex digits) or given as a Buffer.
wire::KeyId key_id_of(Napi::Env env, const Napi::Value& value) {
  if (value.IsBuffer()) {
    const auto buffer = value.As<Napi::Buffer<uint8_t>>();
    return wire::Keyring::id_of({buffer.Data(), buffer.Length()});
  }
  const std::string text = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (text.size() != 8 || text.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw Napi::TypeError::New(env, "key: a Buffer or an id of 8 hex digits");
  }
  return static_cast<wire::KeyId>(std::stoul(text, nullptr, 16));
}

wire::Resources read_resources(const Napi::Value& value) {
  wire::Resources r;
  if (!value.IsObject()) return r;
  const Napi::Object o = value.As<Napi::Object>();
  r.max_instances = static_cast<uint32_t>(get_number(o, "maxInstances", 0));
  r.current_instances = static_cast<uint32_t>(get_number(o, "currentInstances", 0));
  r.cpu_total_milli = static_cast<uint32_t>(std::llround(get_number(o, "cpuTotal", 0) * 1000));
  r.cpu_available_milli =
      static_cast<uint32_t>(std::llround(get_number(o, "cpuAvailable", 0) * 1000));
  r.ram_total_mb = static_cast<uint64_t>(get_number(o, "ramTotalMb", 0));
  r.ram_available_mb = static_cast<uint64_t>(get_number(o, "ramAvailableMb", 0));
  return r;
}

wire::Tags read_tags(const Napi::Value& value) {
  wire::Tags tags;
  if (!value.IsObject()) return tags;
  const Napi::Object o = value.As<Napi::Object>();
  const Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const Napi::Value key = keys.Get(i);
    const Napi::Value v = o.Get(key);
    if (!key.IsString() || !v.IsString()) continue;
    tags.emplace_back(key.As<Napi::String>().Utf8Value(), v.As<Napi::String>().Utf8Value());
  }
  return tags;
}

// Applies the overrides TypeScript passes (already validated there) to a profile.
core::Config read_config(Napi::Env env, const Napi::Object& options) {
  const std::string profile = get_string(options, "profile");
  core::Config c = profile == "wan"     ? core::Config::wan()
                   : profile == "local" ? core::Config::local()
                                        : core::Config::lan();
  const Napi::Value overrides_value = options.Get("config");
  if (overrides_value.IsObject()) {
    const Napi::Object o = overrides_value.As<Napi::Object>();
    auto ms = [&](const char* key, core::TimeMs& field) {
      field = static_cast<core::TimeMs>(get_number(o, key, static_cast<double>(field)));
    };
    auto u32 = [&](const char* key, uint32_t& field) {
      field = static_cast<uint32_t>(get_number(o, key, field));
    };
    auto size = [&](const char* key, size_t& field) {
      field = static_cast<size_t>(get_number(o, key, static_cast<double>(field)));
    };
    ms("probeIntervalMs", c.probe_interval_ms);
    ms("probeTimeoutMs", c.probe_timeout_ms);
    u32("indirectChecks", c.indirect_checks);
    if (o.Get("tcpFallbackProbe").IsBoolean()) {
      c.tcp_fallback_probe = o.Get("tcpFallbackProbe").As<Napi::Boolean>().Value();
    }
    ms("streamTimeoutMs", c.stream_timeout_ms);
    u32("retransmitMult", c.retransmit_mult);
    u32("gossipNodes", c.gossip_nodes);
    ms("gossipIntervalMs", c.gossip_interval_ms);
    ms("gossipToTheDeadMs", c.gossip_to_the_dead_ms);
    u32("suspicionMult", c.suspicion_mult);
    u32("suspicionMaxTimeoutMult", c.suspicion_max_timeout_mult);
    u32("suspicionConfirmations", c.suspicion_confirmations);
    u32("awarenessMaxMultiplier", c.awareness_max_multiplier);
    ms("pushPullIntervalMs", c.push_pull_interval_ms);
    ms("reconnectIntervalMs", c.reconnect_interval_ms);
    ms("deadReapMs", c.dead_reap_ms);
    ms("leftReapMs", c.left_reap_ms);
    ms("leavePropagateMs", c.leave_propagate_ms);
    size("mtu", c.mtu);
    size("maxRecordBytes", c.max_record_bytes);
    size("maxMembers", c.max_members);
    size("maxBroadcasts", c.max_broadcasts);
  }
  const std::string error = c.validate();
  if (!error.empty()) throw Napi::RangeError::New(env, "invalid configuration: " + error);
  return c;
}

Napi::Object config_to_js(Napi::Env env, const core::Config& c) {
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* key, double value) { o.Set(key, Napi::Number::New(env, value)); };
  num("probeIntervalMs", static_cast<double>(c.probe_interval_ms));
  num("probeTimeoutMs", static_cast<double>(c.probe_timeout_ms));
  num("indirectChecks", c.indirect_checks);
  o.Set("tcpFallbackProbe", Napi::Boolean::New(env, c.tcp_fallback_probe));
  num("streamTimeoutMs", static_cast<double>(c.stream_timeout_ms));
  num("retransmitMult", c.retransmit_mult);
  num("gossipNodes", c.gossip_nodes);
  num("gossipIntervalMs", static_cast<double>(c.gossip_interval_ms));
  num("gossipToTheDeadMs", static_cast<double>(c.gossip_to_the_dead_ms));
  num("suspicionMult", c.suspicion_mult);
  num("suspicionMaxTimeoutMult", c.suspicion_max_timeout_mult);
  num("suspicionConfirmations", c.suspicion_confirmations);
  num("awarenessMaxMultiplier", c.awareness_max_multiplier);
  num("pushPullIntervalMs", static_cast<double>(c.push_pull_interval_ms));
  num("reconnectIntervalMs", static_cast<double>(c.reconnect_interval_ms));
  num("deadReapMs", static_cast<double>(c.dead_reap_ms));
  num("leftReapMs", static_cast<double>(c.left_reap_ms));
  num("leavePropagateMs", static_cast<double>(c.leave_propagate_ms));
  num("mtu", static_cast<double>(c.mtu));
  num("maxRecordBytes", static_cast<double>(c.max_record_bytes));
  num("maxMembers", static_cast<double>(c.max_members));
  num("maxBroadcasts", static_cast<double>(c.max_broadcasts));
  return o;
}

// Members cross to JavaScript as columns, not objects: all their strings in one UTF-8 buffer,
// each followed by a NUL (per member: id, name, address, then each tag's key and value), and
// kNumbersPerMember numbers per member in one Float64Array. src/native.ts decodes the buffer
// with one toString and one split and builds the frozen objects with literals: V8 does that
// many times faster than Node-API can set properties or make strings one by one (10,000
// members: about 25 ms property by property, a few ms this way).
// Strings are not validated on the wire, so a NUL inside one is written as U+FFFD: it would
// otherwise shift every field after it. (The TypeScript layer refuses NUL in names and tags,
// so only a hostile record is touched.)
// Number columns, in order (src/native.ts reads the same layout):
//   port, state (0 alive, 1 suspect, 2 dead, 3 left), incarnation, maxInstances,
//   currentInstances, cpuTotal, cpuAvailable, ramTotalMb, ramAvailableMb, protocolVersion,
//   stateChangedAt, tag count, event kind (events only; see core::EventKind)
constexpr size_t kNumbersPerMember = 13;

class MemberColumns {
 public:
  explicit MemberColumns(size_t capacity) {
    numbers_.reserve(capacity * kNumbersPerMember);
    text_.reserve(capacity * 48);
  }

  void add(const wire::MemberRecord& record, wire::MemberState state, uint64_t incarnation,
           int64_t state_changed_at, double event_kind = 0) {
    append(hex_id(record.id));
    append(record.name);
    append(runtime::format_ip(record.address));
    for (const auto& [key, value] : record.tags) {
      append(key);
      append(value);
    }
    const wire::Resources& r = record.resources;
    const double values[kNumbersPerMember] = {
        static_cast<double>(record.address.port),
        static_cast<double>(state),
        static_cast<double>(incarnation),
        static_cast<double>(r.max_instances),
        static_cast<double>(r.current_instances),
        r.cpu_total_milli / 1000.0,
        r.cpu_available_milli / 1000.0,
        static_cast<double>(r.ram_total_mb),
        static_cast<double>(r.ram_available_mb),
        static_cast<double>(record.versions.current),
        static_cast<double>(state_changed_at),
        static_cast<double>(record.tags.size()),
        event_kind,
    };
    numbers_.insert(numbers_.end(), std::begin(values), std::end(values));
    ++count_;
  }

  void add(const runtime::MemberView& view) {
    add(*view.record, view.state, view.incarnation, view.state_changed_at);
  }

  // { count, text: Buffer, numbers: Float64Array }
  Napi::Object finish(Napi::Env env) {
    Napi::Float64Array numbers = Napi::Float64Array::New(env, numbers_.size());
    std::copy(numbers_.begin(), numbers_.end(), numbers.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("count", Napi::Number::New(env, static_cast<double>(count_)));
    out.Set("text", Napi::Buffer<char>::Copy(env, text_.data(), text_.size()));
    out.Set("numbers", numbers);
    return out;
  }

 private:
  void append(std::string_view value) {
    for (const char c : value) {
      if (c == '\0') {
        text_ += "\xEF\xBF\xBD";  // U+FFFD
      } else {
        text_ += c;
      }
    }
    text_ += '\0';
  }

  std::string text_;
  std::vector<double> numbers_;
  size_t count_ = 0;
};

// The one thread-safe function through which a runtime's I/O thread hands batches to
// JavaScript (the shape of node-datachannel's ThreadSafeCallback). Node may finalize the
// function on its own when the environment is torn down (a worker exits with the cluster still
// running): its finalizer records that, so nothing calls Release or Ref on it afterwards.
class BatchChannel {
 public:
  struct Context {
    std::atomic<bool> finalized{false};
  };
  static void call_js(Napi::Env env, Napi::Function callback, Context* context, Batch* raw);
  using Tsfn = Napi::TypedThreadSafeFunction<Context, Batch, &BatchChannel::call_js>;

  BatchChannel(Napi::Env env, Napi::Function callback) : context_(std::make_shared<Context>()) {
    // The finalizer's data is its own reference to the context, freed by the finalizer.
    auto* finalizer_ref = new std::shared_ptr<Context>(context_);
    tsfn_ = Tsfn::New(
        env, callback, "constellation", 0, 1, context_.get(),
        [](Napi::Env, std::shared_ptr<Context>* ref, Context*) {
          (*ref)->finalized.store(true);
          delete ref;
        },
        finalizer_ref);
    // Events never keep the process alive by themselves; the Cluster refs while a command is
    // pending.
    tsfn_.Unref(env);
  }

  // From the I/O thread. Dropped when the function is closing (the environment is going away).
  void post(Batch&& batch) {
    auto owned = std::make_unique<Batch>(std::move(batch));
    if (tsfn_.NonBlockingCall(owned.get()) == napi_ok) owned.release();
  }

  // JavaScript thread only. After release() the channel takes no more batches.
  void ref(Napi::Env env) {
    if (usable()) tsfn_.Ref(env);
  }
  void unref(Napi::Env env) {
    if (usable()) tsfn_.Unref(env);
  }
  void release() {
    if (!usable()) return;
    released_ = true;
    tsfn_.Release();
  }

 private:
  bool usable() const { return !released_ && !context_->finalized.load(); }

  std::shared_ptr<Context> context_;
  Tsfn tsfn_;
  bool released_ = false;
};

Napi::Value batch_to_js(Napi::Env env, const Batch& batch, Napi::Value& completions_out) {
  MemberColumns events(batch.events.size());
  for (const runtime::EventOut& e : batch.events) {
    events.add(*e.member, e.state, e.incarnation, e.at, static_cast<double>(e.kind));
  }
  Napi::Array completions = Napi::Array::New(env, batch.completions.size());
  for (size_t i = 0; i < batch.completions.size(); ++i) {
    const runtime::Completion& c = batch.completions[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("token", Napi::Number::New(env, static_cast<double>(c.token)));
    o.Set("ok", Napi::Boolean::New(env, c.ok));
    o.Set("code", c.code);
    o.Set("message", c.message);
    Napi::Array details = Napi::Array::New(env, c.details.size());
    for (size_t d = 0; d < c.details.size(); ++d) {
      details.Set(static_cast<uint32_t>(d), c.details[d]);
    }
    o.Set("details", details);
    o.Set("value", Napi::Number::New(env, static_cast<double>(c.value)));
    completions.Set(static_cast<uint32_t>(i), o);
  }
  completions_out = completions;
  return events.finish(env);
}

void BatchChannel::call_js(Napi::Env env, Napi::Function callback, Context*, Batch* raw) {
  std::unique_ptr<Batch> batch(raw);
  // Null env: the function is being torn down with batches still queued; just free them.
  if (env == nullptr || callback.IsEmpty()) return;
  // Node delivers queued batches while it tears the environment down (exit with clusters
  // running), when JavaScript can no longer run. Nothing here may throw then: node-addon-api
  // would rethrow into JavaScript, fail, and abort the process. So build the values without
  // letting an error escape, and call through the C API, where a refused call is a status.
  napi_value argv[2];
  try {
    Napi::Value completions;
    argv[0] = batch_to_js(env, *batch, completions);
    argv[1] = completions;
  } catch (const Napi::Error&) {
    return;  // the environment cannot make values any more: drop the batch
  }
  napi_value result = nullptr;
  // An exception thrown by the callback stays pending; Node reports it as uncaught.
  napi_call_function(env, env.Undefined(), callback, 2, argv, &result);
}

// A probe RTT histogram as { boundsMs, buckets, count, sumMs }: buckets[i] counts RTTs in
// (boundsMs[i-1], boundsMs[i]] ms; the last bucket counts everything above the last bound.
Napi::Object rtt_to_js(Napi::Env env, const core::RttHistogram& h) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array bounds = Napi::Array::New(env, core::kProbeRttBoundsMs.size());
  for (uint32_t i = 0; i < core::kProbeRttBoundsMs.size(); ++i) {
    bounds.Set(i, Napi::Number::New(env, static_cast<double>(core::kProbeRttBoundsMs[i])));
  }
  Napi::Array buckets = Napi::Array::New(env, h.buckets.size());
  for (uint32_t i = 0; i < h.buckets.size(); ++i) {
    buckets.Set(i, Napi::Number::New(env, static_cast<double>(h.buckets[i])));
  }
  o.Set("boundsMs", bounds);
  o.Set("buckets", buckets);
  o.Set("count", Napi::Number::New(env, static_cast<double>(h.count)));
  o.Set("sumMs", Napi::Number::New(env, static_cast<double>(h.sum_ms)));
  return o;
}

class NativeCluster : public Napi::ObjectWrap<NativeCluster> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeCluster",
                       {
                           InstanceMethod<&NativeCluster::Join>("join"),
                           InstanceMethod<&NativeCluster::Leave>("leave"),
                           InstanceMethod<&NativeCluster::Update>("update"),
                           InstanceMethod<&NativeCluster::ForceLeave>("forceLeave"),
                           InstanceMethod<&NativeCluster::Shutdown>("shutdown"),
                           InstanceMethod<&NativeCluster::Running>("running"),
                           InstanceMethod<&NativeCluster::Members>("members"),
                           InstanceMethod<&NativeCluster::Stats>("stats"),
                           InstanceMethod<&NativeCluster::LocalAddress>("localAddress"),
                           InstanceMethod<&NativeCluster::Ref>("ref"),
                           InstanceMethod<&NativeCluster::Unref>("unref"),
                           InstanceMethod<&NativeCluster::KeysAdd>("keysAdd"),
                           InstanceMethod<&NativeCluster::KeysUse>("keysUse"),
                           InstanceMethod<&NativeCluster::KeysRemove>("keysRemove"),
                           InstanceMethod<&NativeCluster::KeysList>("keysList"),
                       });
  }

  // new NativeCluster(options, onBatch)
  explicit NativeCluster(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeCluster>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "NativeCluster(options, onBatch)");
    }
    const Napi::Object options = info[0].As<Napi::Object>();
    runtime::RuntimeOptions opts;
    opts.config = read_config(env, options);
    opts.local.name = get_string(options, "name");
    opts.local.id = get_u64(options, "id", 0);
    // A restarted member starts above every incarnation it used before (the agent's snapshot
    // remembers it), so its first ALIVE is never mistaken for an old one (SWIM §4.2).
    opts.local.incarnation = get_u64(options, "incarnation", 0);
    opts.local.resources = read_resources(options.Get("resources"));
    opts.local.tags = read_tags(options.Get("tags"));
    opts.bind = parse_address(env, get_string(options, "bindIp"),
                              get_number(options, "bindPort", -1), "bind");
    if (options.Get("advertiseIp").IsString()) {
      opts.advertise = parse_address(env, get_string(options, "advertiseIp"),
                                     get_number(options, "advertisePort", -1), "advertise");
    }
    opts.seed = get_u64(options, "seed", 1);
    opts.shared_thread = get_string(options, "ioThread") != "own";
    opts.cluster_name = get_string(options, "clusterName");
    opts.keys = read_keys(env, options.Get("keys"));
    keys_ = opts.keys;

    channel_ = std::make_shared<BatchChannel>(env, info[1].As<Napi::Function>());
    std::string error;
    runtime::StartError kind = runtime::StartError::kNone;
    runtime_ = Runtime::start(
        std::move(opts), [channel = channel_](Batch&& batch) { channel->post(std::move(batch)); },
        error, kind);
    if (!runtime_) {
      channel_->release();
      Napi::Error e = Napi::Error::New(env, error);
      const char* code = kind == runtime::StartError::kBind             ? "ERR_BIND"
                         : kind == runtime::StartError::kConfig         ? "ERR_INVALID_CONFIG"
                         : kind == runtime::StartError::kRecordTooLarge ? "ERR_METADATA_TOO_LARGE"
                                                                        : "ERR_SYSTEM";
      e.Set("code", Napi::String::New(env, code));
      throw e;
    }
    // The env cleanup hook stops the thread of a cluster nobody shut down (a worker exiting);
    // the channel is left to Node, which finalizes it during the same teardown.
    closer_ = addon_data(env).add_closer([runtime = runtime_] { runtime->stop(); });
  }

  // Runs on garbage collection after shutdown, or during environment teardown (after the
  // cleanup hook has stopped the thread). Either way the thread is stopped before the channel
  // it posts to is released.
  ~NativeCluster() override { stop(Env()); }

 private:
  void stop(Napi::Env env) {
    if (!runtime_) return;
    runtime_->stop();
    addon_data(env).remove_closer(closer_);
    channel_->release();
    runtime_.reset();
    given_.reset();
  }
  Runtime& running_runtime(Napi::Env env) {
    if (!runtime_ || !runtime_->running()) {
      Napi::Error e = Napi::Error::New(env, "the cluster is not running");
      e.Set("code", Napi::String::New(env, "ERR_NOT_RUNNING"));
      throw e;
    }
    return *runtime_;
  }

  static uint64_t token_of(const Napi::CallbackInfo& info, size_t index) {
    return static_cast<uint64_t>(info[index].As<Napi::Number>().DoubleValue());
  }

  // join([{ ip, port }], token)
  Napi::Value Join(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Runtime& rt = running_runtime(env);
    if (!info[0].IsArray() || !info[1].IsNumber())
      throw Napi::TypeError::New(env, "join(seeds, token)");
    const Napi::Array list = info[0].As<Napi::Array>();
    std::vector<wire::Address> seeds;
    for (uint32_t i = 0; i < list.Length(); ++i) {
      const Napi::Value item = list.Get(i);
      if (!item.IsObject()) throw Napi::TypeError::New(env, "join: seed must be { ip, port }");
      const Napi::Object seed = item.As<Napi::Object>();
      seeds.push_back(
          parse_address(env, get_string(seed, "ip"), get_number(seed, "port", -1), "seed"));
    }
    rt.join(std::move(seeds), token_of(info, 1));
    return env.Undefined();
  }

  Napi::Value Leave(const Napi::CallbackInfo& info) {
    running_runtime(info.Env()).leave(token_of(info, 0));
    return info.Env().Undefined();
  }

  // update(resources, tags, token)
  Napi::Value Update(const Napi::CallbackInfo& info) {
    Runtime& rt = running_runtime(info.Env());
    rt.update(read_resources(info[0]), read_tags(info[1]), token_of(info, 2));
    return info.Env().Undefined();
  }

  Napi::Value ForceLeave(const Napi::CallbackInfo& info) {
    Runtime& rt = running_runtime(info.Env());
    rt.force_leave(info[0].As<Napi::String>().Utf8Value(), token_of(info, 1));
    return info.Env().Undefined();
  }

  Napi::Value Shutdown(const Napi::CallbackInfo& info) {
    stop(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value Running(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), runtime_ && runtime_->running());
  }

  // members(cached: boolean) -> undefined | { size, fresh: Uint32Array, ...columns }
  // Undefined: the table has not changed since the last call, the caller's array is current.
  // Otherwise the table has `size` members; `fresh` lists the indices whose member changed
  // since the previous call (see MemberView::stamp), in order, and the columns describe those
  // members only; every other index holds the same member object as the caller's previous
  // array. With `cached` false every index is fresh.
  Napi::Value Members(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const bool cached = info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
    std::shared_ptr<const runtime::Snapshot> snapshot = running_runtime(env).snapshot();
    if (cached && given_ && snapshot == given_) return env.Undefined();
    const uint64_t known = cached && given_ ? given_->last_stamp : 0;
    std::vector<uint32_t> fresh;
    for (size_t i = 0; i < snapshot->members.size(); ++i) {
      if (snapshot->members[i].stamp > known) fresh.push_back(static_cast<uint32_t>(i));
    }
    MemberColumns columns(fresh.size());
    for (uint32_t i : fresh) columns.add(snapshot->members[i]);
    Napi::Object out = columns.finish(env);
    Napi::Uint32Array indices = Napi::Uint32Array::New(env, fresh.size());
    std::copy(fresh.begin(), fresh.end(), indices.Data());
    out.Set("size", Napi::Number::New(env, static_cast<double>(snapshot->members.size())));
    out.Set("fresh", indices);
    given_ = std::move(snapshot);
    return out;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const runtime::Stats s = running_runtime(env).stats();
    const core::Counters& c = s.counters;
    Napi::Object o = Napi::Object::New(env);
    auto num = [&](Napi::Object& target, const char* key, double v) {
      target.Set(key, Napi::Number::New(env, v));
    };
    num(o, "healthScore", s.health_score);
    num(o, "incarnation", static_cast<double>(s.incarnation));
    num(o, "members", static_cast<double>(s.members));
    num(o, "alive", static_cast<double>(s.alive));
    num(o, "suspect", static_cast<double>(s.suspect));
    num(o, "dead", static_cast<double>(s.dead));
    num(o, "left", static_cast<double>(s.left));
    num(o, "packetsIn", static_cast<double>(c.packets_in));
    num(o, "packetsOut", static_cast<double>(c.packets_out));
    num(o, "bytesIn", static_cast<double>(c.bytes_in));
    num(o, "bytesOut", static_cast<double>(c.bytes_out));
    num(o, "probesSent", static_cast<double>(c.probes_sent));
    num(o, "acksReceived", static_cast<double>(c.acks_received));
    num(o, "nacksReceived", static_cast<double>(c.nacks_received));
    num(o, "indirectProbesSent", static_cast<double>(c.indirect_probes_sent));
    num(o, "tcpPingsRequested", static_cast<double>(c.tcp_pings_requested));
    num(o, "probeFailures", static_cast<double>(c.probe_failures));
    num(o, "suspicions", static_cast<double>(c.suspicions));
    num(o, "refutations", static_cast<double>(c.refutations));
    num(o, "deaths", static_cast<double>(c.deaths));
    num(o, "conflicts", static_cast<double>(c.conflicts));
    num(o, "syncsRequested", static_cast<double>(c.syncs_requested));
    num(o, "syncsCompleted", static_cast<double>(c.syncs_completed));
    num(o, "syncsServed", static_cast<double>(c.syncs_served));
    num(o, "streamsFailed", static_cast<double>(c.streams_failed));
    num(o, "streamsRefused", static_cast<double>(s.streams_refused));
    num(o, "udpSendErrors", static_cast<double>(s.udp_send_errors));
    Napi::Object rejected = Napi::Object::New(env);
    for (size_t i = 1; i < wire::kDecodeErrorCount; ++i) {
      num(rejected, wire::error_name(static_cast<wire::DecodeError>(i)),
          static_cast<double>(c.rejected[i]));
    }
    // The envelope's reasons; the first four share their names with the codec's, so a packet
    // refused for `truncated` counts there whichever layer refused it.
    for (size_t i = 1; i < wire::kOpenErrorCount; ++i) {
      const char* name = wire::open_error_name(static_cast<wire::OpenError>(i));
      const Napi::Value before = rejected.Get(name);
      const double base = before.IsNumber() ? before.As<Napi::Number>().DoubleValue() : 0;
      num(rejected, name, base + static_cast<double>(s.envelope_rejected[i]));
    }
    num(rejected, "truncatedDatagram", static_cast<double>(s.udp_truncated));
    o.Set("rejected", rejected);
    o.Set("probeRtt", rtt_to_js(env, c.probe_rtt));
    return o;
  }

  // keysAdd(key: Buffer) -> id; keysUse(id | key); keysRemove(id | key); keysList() ->
  // [{ id, bits, primary }]. The change is a new copy-on-write snapshot; the I/O thread picks
  // it up with its next batch of packets. A cluster started without keys has no ring.
  wire::SharedKeyring& keyring(Napi::Env env) {
    running_runtime(env);
    if (!keys_) {
      keyring_error(env, "ERR_ENCRYPTION_OFF",
                    "this cluster was started without keys; encryption cannot be turned on");
    }
    return *keys_;
  }

  void check_keyring(Napi::Env env, wire::KeyringError error, wire::KeyId id) {
    const std::string name = "key " + wire::Keyring::id_text(id);
    switch (error) {
      case wire::KeyringError::kNone:
        return;
      case wire::KeyringError::kBadLength:
        keyring_error(env, "ERR_KEYRING_BAD_LENGTH", "a key must be 16, 24 or 32 bytes");
      case wire::KeyringError::kExists:
        keyring_error(env, "ERR_KEYRING_EXISTS", name + " is already in the keyring");
      case wire::KeyringError::kFull:
        keyring_error(env, "ERR_KEYRING_FULL", "the keyring already holds 16 keys");
      case wire::KeyringError::kUnknown:
        keyring_error(env, "ERR_KEYRING_UNKNOWN", name + " is not in the keyring");
      case wire::KeyringError::kPrimary:
        keyring_error(env, "ERR_KEYRING_PRIMARY",
                      name + " is the primary key; make another key primary first");
    }
  }

  Napi::Value KeysAdd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    wire::SharedKeyring& keys = keyring(env);
    if (!info[0].IsBuffer()) throw Napi::TypeError::New(env, "key: a Buffer");
    const auto buffer = info[0].As<Napi::Buffer<uint8_t>>();
    wire::KeyId id = 0;
    check_keyring(env, keys.update([&](wire::Keyring& ring) {
      return ring.add({buffer.Data(), buffer.Length()}, &id);
    }),
                  id);
    return Napi::String::New(env, wire::Keyring::id_text(id));
  }

  Napi::Value KeysUse(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    wire::SharedKeyring& keys = keyring(env);
    const wire::KeyId id = key_id_of(env, info[0]);
    check_keyring(env, keys.update([&](wire::Keyring& ring) { return ring.use(id); }), id);
    return env.Undefined();
  }

  Napi::Value KeysRemove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    wire::SharedKeyring& keys = keyring(env);
    const wire::KeyId id = key_id_of(env, info[0]);
    check_keyring(env, keys.update([&](wire::Keyring& ring) { return ring.remove(id); }), id);
    return env.Undefined();
  }

  Napi::Value KeysList(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto list = keyring(env).snapshot()->list();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (uint32_t i = 0; i < list.size(); ++i) {
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("id", wire::Keyring::id_text(list[i].id));
      entry.Set("bits", Napi::Number::New(env, list[i].bits));
      entry.Set("primary", Napi::Boolean::New(env, list[i].primary));
      out.Set(i, entry);
    }
    return out;
  }

  Napi::Value LocalAddress(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const wire::Address a = running_runtime(env).local_address();
    Napi::Object o = Napi::Object::New(env);
    o.Set("ip", runtime::format_ip(a));
    o.Set("port", a.port);
    return o;
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (runtime_) channel_->ref(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (runtime_) channel_->unref(info.Env());
    return info.Env().Undefined();
  }

  std::shared_ptr<Runtime> runtime_;
  std::shared_ptr<BatchChannel> channel_;
  size_t closer_ = 0;
  // The snapshot the last members() call described, which the caller's array mirrors.
  std::shared_ptr<const runtime::Snapshot> given_;
  // The keyring the runtime reads (shared with it); null: started without keys.
  std::shared_ptr<wire::SharedKeyring> keys_;
};

Napi::Value profile_defaults(const Napi::CallbackInfo& info) {
  const std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "lan";
  const core::Config c = name == "wan"     ? core::Config::wan()
                         : name == "local" ? core::Config::local()
                                           : core::Config::lan();
  return config_to_js(info.Env(), c);
}

// ---- addon.echo: the throughput harness behind bench/echo.mjs (native/runtime/echo.h) ----

std::mutex echo_servers_mutex;
struct EchoServerEntry {
  std::shared_ptr<runtime::RawEchoServer> server;
  size_t closer = 0;
};
std::map<uint32_t, EchoServerEntry> echo_servers;
uint32_t next_echo_server = 1;

// rawServerStart(ip) -> { id, port }
Napi::Value echo_server_start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const wire::Address bind = parse_address(env, info[0].ToString().Utf8Value(), 0, "ip");
  std::string error;
  std::shared_ptr<runtime::RawEchoServer> server = runtime::RawEchoServer::start(bind, error);
  if (!server) throw Napi::Error::New(env, "echo server: " + error);
  // A worker that exits with the server running must still stop its thread.
  const size_t closer = addon_data(env).add_closer([server] { server->stop(); });
  uint32_t id = 0;
  {
    std::lock_guard lock(echo_servers_mutex);
    id = next_echo_server++;
    echo_servers[id] = EchoServerEntry{server, closer};
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", Napi::Number::New(env, id));
  out.Set("port", Napi::Number::New(env, server->address().port));
  return out;
}

// rawServerStop(id) -> datagrams echoed
Napi::Value echo_server_stop(const Napi::CallbackInfo& info) {
  const uint32_t id = info[0].ToNumber().Uint32Value();
  EchoServerEntry entry;
  {
    std::lock_guard lock(echo_servers_mutex);
    auto it = echo_servers.find(id);
    if (it == echo_servers.end()) return info.Env().Undefined();
    entry = it->second;
    echo_servers.erase(it);
  }
  addon_data(info.Env()).remove_closer(entry.closer);
  const std::shared_ptr<runtime::RawEchoServer>& server = entry.server;
  server->stop();
  return Napi::Number::New(info.Env(), static_cast<double>(server->echoed()));
}

// client({ fromIp, ip, port, packet: Buffer, window, durationMs }) -> { sent, received, seconds }
Napi::Value echo_client(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "client(options)");
  const Napi::Object o = info[0].As<Napi::Object>();
  const wire::Address from = parse_address(env, get_string(o, "fromIp"), 0, "fromIp");
  const wire::Address target =
      parse_address(env, get_string(o, "ip"), get_number(o, "port", -1), "ip/port");
  const Napi::Value packet = o.Get("packet");
  if (!packet.IsBuffer()) throw Napi::TypeError::New(env, "packet must be a Buffer");
  const auto bytes = packet.As<Napi::Buffer<uint8_t>>();
  const std::vector<uint8_t> request(bytes.Data(), bytes.Data() + bytes.Length());
  const size_t window = static_cast<size_t>(std::max(1.0, get_number(o, "window", 64)));
  const int duration = static_cast<int>(std::max(1.0, get_number(o, "durationMs", 1000)));
  std::string error;
  const runtime::EchoResult r =
      runtime::run_echo_client(from, target, request, window, duration, error);
  if (!error.empty()) throw Napi::Error::New(env, "echo client: " + error);
  Napi::Object out = Napi::Object::New(env);
  out.Set("sent", Napi::Number::New(env, static_cast<double>(r.sent)));
  out.Set("received", Napi::Number::New(env, static_cast<double>(r.received)));
  out.Set("seconds", Napi::Number::New(env, r.seconds));
  return out;
}

}  // namespace

void RegisterCluster(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeCluster", NativeCluster::Define(env));
  exports.Set("profileDefaults", Napi::Function::New(env, profile_defaults));
  Napi::Object echo = Napi::Object::New(env);
  echo.Set("rawServerStart", Napi::Function::New(env, echo_server_start, "rawServerStart"));
  echo.Set("rawServerStop", Napi::Function::New(env, echo_server_stop, "rawServerStop"));
  echo.Set("client", Napi::Function::New(env, echo_client, "client"));
  exports.Set("echo", echo);
}

}  // namespace constellation::addon
