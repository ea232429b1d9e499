// JavaScript access to the simulator: `addon.sim.simulate(scenario)` for the property tests,
// the `sim` benchmark and the tuning script. Converts the scenario object to sim::Scenario
// (throwing a TypeError or RangeError that names the field at fault), runs it on the calling
// thread, and converts the result back. No simulation logic lives here.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "addon/bindings.h"
#include "core/config.h"
#include "sim/sim_address.h"
#include "sim/simulator.h"

namespace constellation::addon {

namespace {

using sim::TimeMs;

// Above this the N x N view matrix and the engines' tables no longer fit in memory.
constexpr uint32_t kMaxNodes = 20000;
// A day of virtual time is far beyond any scenario we run; it keeps sums of times in range.
constexpr double kMaxTimeMs = 24.0 * 3600 * 1000 * 30;

[[noreturn]] void throw_type(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, "simulate: " + message);
}
[[noreturn]] void throw_range(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, "simulate: " + message);
}

double number_field(const Napi::Object& object, const std::string& path, const char* key,
                    double fallback, double min, double max) {
  const Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) throw_type(object.Env(), path + key + " must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || number < min || number > max) {
    throw_range(object.Env(), path + key + " must be between " + std::to_string(min) + " and " +
                                  std::to_string(max));
  }
  return number;
}

int64_t integer_field(const Napi::Object& object, const std::string& path, const char* key,
                      int64_t fallback, double min, double max) {
  const double number = number_field(object, path, key, static_cast<double>(fallback), min, max);
  if (std::floor(number) != number) throw_range(object.Env(), path + key + " must be an integer");
  return static_cast<int64_t>(number);
}

bool bool_field(const Napi::Object& object, const std::string& path, const char* key,
                bool fallback) {
  const Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsBoolean()) throw_type(object.Env(), path + key + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

std::string string_field(const Napi::Object& object, const std::string& path, const char* key,
                         const std::string& fallback) {
  const Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsString()) throw_type(object.Env(), path + key + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

uint32_t member_ref(Napi::Env env, const Napi::Value& value, uint32_t nodes,
                    const std::string& path) {
  if (value.IsNumber()) {
    const double index = value.As<Napi::Number>().DoubleValue();
    if (std::floor(index) != index || index < 0 || index >= nodes) {
      throw_range(env, path + " must be a member index below nodes");
    }
    return static_cast<uint32_t>(index);
  }
  if (value.IsString()) {
    const auto index = sim::member_named(value.As<Napi::String>().Utf8Value());
    if (!index || *index >= nodes) throw_range(env, path + " names no member (n0..n{nodes-1})");
    return *index;
  }
  throw_type(env, path + " must be a member index or name");
}

std::vector<uint32_t> member_list(Napi::Env env, const Napi::Value& value, uint32_t nodes,
                                  const std::string& path) {
  if (!value.IsArray()) throw_type(env, path + " must be an array of members");
  const auto array = value.As<Napi::Array>();
  std::vector<uint32_t> members;
  members.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    members.push_back(member_ref(env, array.Get(i), nodes, path + "[" + std::to_string(i) + "]"));
  }
  return members;
}

// Config fields by the names the TypeScript API uses.
struct TimeField {
  const char* key;
  TimeMs core::Config::*field;
};
struct CountField {
  const char* key;
  uint32_t core::Config::*field;
};
struct SizeField {
  const char* key;
  size_t core::Config::*field;
};
constexpr TimeField kTimeFields[] = {
    {"probeIntervalMs", &core::Config::probe_interval_ms},
    {"probeTimeoutMs", &core::Config::probe_timeout_ms},
    {"streamTimeoutMs", &core::Config::stream_timeout_ms},
    {"gossipIntervalMs", &core::Config::gossip_interval_ms},
    {"gossipToTheDeadMs", &core::Config::gossip_to_the_dead_ms},
    {"pushPullIntervalMs", &core::Config::push_pull_interval_ms},
    {"reconnectIntervalMs", &core::Config::reconnect_interval_ms},
    {"deadReapMs", &core::Config::dead_reap_ms},
    {"leftReapMs", &core::Config::left_reap_ms},
    {"leavePropagateMs", &core::Config::leave_propagate_ms},
};
constexpr CountField kCountFields[] = {
    {"indirectChecks", &core::Config::indirect_checks},
    {"retransmitMult", &core::Config::retransmit_mult},
    {"gossipNodes", &core::Config::gossip_nodes},
    {"suspicionMult", &core::Config::suspicion_mult},
    {"suspicionMaxTimeoutMult", &core::Config::suspicion_max_timeout_mult},
    {"suspicionConfirmations", &core::Config::suspicion_confirmations},
    {"awarenessMaxMultiplier", &core::Config::awareness_max_multiplier},
};
constexpr SizeField kSizeFields[] = {
    {"mtu", &core::Config::mtu},
    {"maxRecordBytes", &core::Config::max_record_bytes},
    {"maxMembers", &core::Config::max_members},
    {"maxBroadcasts", &core::Config::max_broadcasts},
};

// Config overrides.
void apply_config(const Napi::Object& object, core::Config& config) {
  const std::string path = "config.";
  const Napi::Array keys = object.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).ToString().Utf8Value();
    bool known = false;
    for (const auto& f : kTimeFields) {
      if (key != f.key) continue;
      config.*f.field = integer_field(object, path, f.key, config.*f.field, 0, kMaxTimeMs);
      known = true;
    }
    for (const auto& f : kCountFields) {
      if (key != f.key) continue;
      config.*f.field =
          static_cast<uint32_t>(integer_field(object, path, f.key, config.*f.field, 0, 1e9));
      known = true;
    }
    for (const auto& f : kSizeFields) {
      if (key != f.key) continue;
      config.*f.field = static_cast<size_t>(
          integer_field(object, path, f.key, static_cast<int64_t>(config.*f.field), 0, 1e12));
      known = true;
    }
    if (key == "tcpFallbackProbe") {
      config.tcp_fallback_probe = bool_field(object, path, "tcpFallbackProbe", true);
      known = true;
    }
    if (!known) throw_type(object.Env(), "unknown config field " + key);
  }
}

wire::Tags parse_tags(Napi::Env env, const Napi::Value& value, const std::string& path) {
  wire::Tags tags;
  if (value.IsUndefined()) return tags;
  if (!value.IsObject()) throw_type(env, path + " must be an object of strings");
  const auto object = value.As<Napi::Object>();
  const Napi::Array keys = object.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).ToString().Utf8Value();
    const Napi::Value tag = object.Get(key);
    if (!tag.IsString()) throw_type(env, path + "." + key + " must be a string");
    tags.emplace_back(key, tag.As<Napi::String>().Utf8Value());
  }
  return tags;
}

wire::Resources parse_resources(Napi::Env env, const Napi::Value& value, const std::string& path) {
  wire::Resources resources;
  if (value.IsUndefined()) return resources;
  if (!value.IsObject()) throw_type(env, path + " must be an object");
  const auto object = value.As<Napi::Object>();
  const std::string prefix = path + ".";
  resources.max_instances =
      static_cast<uint32_t>(integer_field(object, prefix, "maxInstances", 0, 0, 4294967295.0));
  resources.current_instances =
      static_cast<uint32_t>(integer_field(object, prefix, "currentInstances", 0, 0, 4294967295.0));
  resources.cpu_total_milli =
      static_cast<uint32_t>(integer_field(object, prefix, "cpuTotalMilli", 0, 0, 4294967295.0));
  resources.cpu_available_milli =
      static_cast<uint32_t>(integer_field(object, prefix, "cpuAvailableMilli", 0, 0, 4294967295.0));
  resources.ram_total_mb =
      static_cast<uint64_t>(integer_field(object, prefix, "ramTotalMb", 0, 0, 9007199254740991.0));
  resources.ram_available_mb = static_cast<uint64_t>(
      integer_field(object, prefix, "ramAvailableMb", 0, 0, 9007199254740991.0));
  return resources;
}

sim::Action parse_action(Napi::Env env, const Napi::Value& value, uint32_t nodes,
                         const std::string& path) {
  if (!value.IsObject()) throw_type(env, path + " must be an object");
  const auto object = value.As<Napi::Object>();
  static const std::unordered_map<std::string, sim::ActionKind> kinds = {
      {"crash", sim::ActionKind::kCrash},
      {"restart", sim::ActionKind::kRestart},
      {"pause", sim::ActionKind::kPause},
      {"resume", sim::ActionKind::kResume},
      {"partition", sim::ActionKind::kPartition},
      {"heal", sim::ActionKind::kHeal},
      {"ingressLoss", sim::ActionKind::kIngressLoss},
      {"egressLoss", sim::ActionKind::kEgressLoss},
      {"loss", sim::ActionKind::kLoss},
      {"update", sim::ActionKind::kUpdate},
      {"leave", sim::ActionKind::kLeave},
      {"flood", sim::ActionKind::kFlood},
  };
  const std::string prefix = path + ".";
  sim::Action action;
  action.at = integer_field(object, prefix, "at", 0, 0, kMaxTimeMs);
  const std::string kind = string_field(object, prefix, "kind", "");
  const auto found = kinds.find(kind);
  if (found == kinds.end()) throw_range(env, prefix + "kind '" + kind + "' is not an action");
  action.kind = found->second;
  switch (action.kind) {
    case sim::ActionKind::kPartition: {
      const Napi::Value groups = object.Get("groups");
      if (!groups.IsArray()) throw_type(env, prefix + "groups must be an array of member arrays");
      const auto array = groups.As<Napi::Array>();
      for (uint32_t i = 0; i < array.Length(); ++i) {
        action.groups.push_back(
            member_list(env, array.Get(i), nodes, prefix + "groups[" + std::to_string(i) + "]"));
      }
      break;
    }
    case sim::ActionKind::kHeal:
      break;
    case sim::ActionKind::kLoss:
      action.value = number_field(object, prefix, "value", 0, 0, 1);
      break;
    case sim::ActionKind::kIngressLoss:
    case sim::ActionKind::kEgressLoss:
      action.members = member_list(env, object.Get("members"), nodes, prefix + "members");
      action.value = number_field(object, prefix, "value", 0, 0, 1);
      break;
    case sim::ActionKind::kUpdate: {
      action.members = member_list(env, object.Get("members"), nodes, prefix + "members");
      const Napi::Value update = object.Get("value");
      if (!update.IsUndefined() && !update.IsObject()) {
        throw_type(env, prefix + "value must be { tags, resources }");
      }
      if (update.IsObject()) {
        const auto fields = update.As<Napi::Object>();
        action.tags = parse_tags(env, fields.Get("tags"), prefix + "value.tags");
        action.resources =
            parse_resources(env, fields.Get("resources"), prefix + "value.resources");
      }
      break;
    }
    case sim::ActionKind::kFlood: {
      action.members = member_list(env, object.Get("members"), nodes, prefix + "members");
      const Napi::Value packets = object.Get("packets");
      if (!packets.IsArray()) throw_type(env, prefix + "packets must be an array of Buffers");
      const auto array = packets.As<Napi::Array>();
      for (uint32_t i = 0; i < array.Length(); ++i) {
        const Napi::Value packet = array.Get(i);
        if (!packet.IsBuffer()) {
          throw_type(env, prefix + "packets[" + std::to_string(i) + "] must be a Buffer");
        }
        const auto buffer = packet.As<Napi::Buffer<uint8_t>>();
        action.packets.emplace_back(buffer.Data(), buffer.Data() + buffer.Length());
      }
      if (action.packets.empty()) throw_range(env, prefix + "packets must not be empty");
      // The counter travels in a 32-bit field of the queue item.
      action.count =
          static_cast<uint64_t>(integer_field(object, prefix, "count", 1, 1, 4294967295.0));
      action.spread_ms = integer_field(object, prefix, "spreadMs", 0, 0, kMaxTimeMs);
      break;
    }
    default:
      action.members = member_list(env, object.Get("members"), nodes, prefix + "members");
      break;
  }
  return action;
}

sim::Scenario parse_scenario(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) throw_type(env, "the scenario must be an object");
  const auto object = value.As<Napi::Object>();
  const std::string path;
  sim::Scenario scenario;
  scenario.seed =
      static_cast<uint64_t>(integer_field(object, path, "seed", 1, 0, 9007199254740991.0));
  scenario.nodes = static_cast<uint32_t>(integer_field(object, path, "nodes", 5, 1, kMaxNodes));

  const std::string profile = string_field(object, path, "profile", "lan");
  // Network defaults per profile: one switch hop, a continent, loopback.
  if (profile == "lan") {
    scenario.config = core::Config::lan();
    scenario.link = sim::LinkParams{1, 1, 0.0};
  } else if (profile == "wan") {
    scenario.config = core::Config::wan();
    scenario.link = sim::LinkParams{40, 20, 0.0};
  } else if (profile == "local") {
    scenario.config = core::Config::local();
    scenario.link = sim::LinkParams{0, 0, 0.0};
  } else {
    throw_range(env, "profile must be 'lan', 'wan' or 'local'");
  }
  const Napi::Value config = object.Get("config");
  if (!config.IsUndefined()) {
    if (!config.IsObject()) throw_type(env, "config must be an object");
    apply_config(config.As<Napi::Object>(), scenario.config);
  }
  if (const std::string problem = scenario.config.validate(); !problem.empty()) {
    throw_range(env, "config: " + problem);
  }

  scenario.link.latency_ms =
      integer_field(object, path, "latencyMs", scenario.link.latency_ms, 0, 60000);
  scenario.link.jitter_ms =
      integer_field(object, path, "jitterMs", scenario.link.jitter_ms, 0, 60000);
  scenario.link.loss = number_field(object, path, "loss", 0, 0, 1);

  const std::string join = string_field(object, path, "joinMode", "seed");
  if (join == "seed") {
    scenario.join_mode = sim::JoinMode::kSeed;
  } else if (join == "staggered") {
    scenario.join_mode = sim::JoinMode::kStaggered;
  } else {
    throw_range(env, "joinMode must be 'seed' or 'staggered'");
  }
  scenario.join_spread_ms = integer_field(object, path, "joinSpreadMs", 0, 0, kMaxTimeMs);
  scenario.duration_ms = integer_field(object, path, "durationMs", 60000, 0, kMaxTimeMs);

  const std::string relative = string_field(object, path, "actionsFrom", "start");
  if (relative == "start") {
    scenario.actions_after_convergence = false;
  } else if (relative == "converged") {
    scenario.actions_after_convergence = true;
  } else {
    throw_range(env, "actionsFrom must be 'start' or 'converged'");
  }
  const Napi::Value actions = object.Get("actions");
  if (!actions.IsUndefined()) {
    if (!actions.IsArray()) throw_type(env, "actions must be an array");
    const auto array = actions.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); ++i) {
      scenario.actions.push_back(
          parse_action(env, array.Get(i), scenario.nodes, "actions[" + std::to_string(i) + "]"));
    }
    // Stable: actions given for the same time run in the order written.
    std::stable_sort(scenario.actions.begin(), scenario.actions.end(),
                     [](const sim::Action& a, const sim::Action& b) { return a.at < b.at; });
  }

  const std::string stop = string_field(object, path, "stopWhen", "duration");
  if (stop == "duration") {
    scenario.stop_when = sim::StopWhen::kDuration;
  } else if (stop == "converged") {
    scenario.stop_when = sim::StopWhen::kConverged;
  } else if (stop == "detected") {
    scenario.stop_when = sim::StopWhen::kDetected;
  } else if (stop == "allAlive") {
    scenario.stop_when = sim::StopWhen::kAllAlive;
  } else {
    throw_range(env, "stopWhen must be 'duration', 'converged', 'detected' or 'allAlive'");
  }
  scenario.record_events = bool_field(object, path, "recordEvents", true);
  scenario.share_pool = bool_field(object, path, "sharePool", true);
  scenario.threads = static_cast<uint32_t>(integer_field(object, path, "threads", 1, 1, 64));
  scenario.pause_buffer_bytes = static_cast<size_t>(
      integer_field(object, path, "pauseBufferBytes",
                    static_cast<int64_t>(scenario.pause_buffer_bytes), 0, 1e10));
  const Napi::Value progress = object.Get("onProgress");
  if (!progress.IsUndefined()) {
    if (!progress.IsFunction()) throw_type(env, "onProgress must be a function");
    scenario.progress_every_ms =
        integer_field(object, path, "progressEveryMs", 10000, 1, kMaxTimeMs);
    // Called synchronously on this thread between simulation steps; the function reference
    // lives as long as this call does.
    auto callback =
        std::make_shared<Napi::FunctionReference>(Napi::Persistent(progress.As<Napi::Function>()));
    scenario.on_progress = [env, callback](const sim::Progress& p) {
      Napi::HandleScope scope(env);
      Napi::Object info = Napi::Object::New(env);
      info.Set("at", static_cast<double>(p.at));
      info.Set("queueEvents", static_cast<double>(p.queue_events));
      info.Set("running", p.running);
      info.Set("converged", p.converged);
      info.Set("missingPairs", static_cast<double>(p.missing_pairs));
      callback->Call({info});
    };
  }
  return scenario;
}

Napi::Value optional_ms(Napi::Env env, const std::optional<TimeMs>& value) {
  if (!value) return env.Null();
  return Napi::Number::New(env, static_cast<double>(*value));
}

double per_node_per_sec(uint64_t amount, uint32_t members, TimeMs window_ms) {
  if (members == 0 || window_ms <= 0) return 0;
  return static_cast<double>(amount) / members / (static_cast<double>(window_ms) / 1000.0);
}

std::string hex64(uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

Napi::Object metrics_object(Napi::Env env, const sim::SimResult& result) {
  Napi::Object metrics = Napi::Object::New(env);
  const auto number = [&](const char* key, double value) {
    metrics.Set(key, Napi::Number::New(env, value));
  };
  metrics.Set("convergeMs", result.converged_at
                                ? Napi::Number::New(env, static_cast<double>(*result.converged_at -
                                                                             result.first_join_at))
                                : env.Null());

  Napi::Array crashes = Napi::Array::New(env, result.crashes.size());
  for (size_t i = 0; i < result.crashes.size(); ++i) {
    const auto& crash = result.crashes[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("member", sim::member_name(crash.member));
    entry.Set("at", static_cast<double>(crash.at));
    entry.Set("detectFirstMs", optional_ms(env, crash.first));
    entry.Set("detectMedianMs", optional_ms(env, crash.median));
    entry.Set("detectAllMs", optional_ms(env, crash.all));
    entry.Set("detectedBy", crash.detected);
    entry.Set("observers", crash.observers);
    entry.Set("restartedAt", optional_ms(env, crash.restarted_at));
    crashes.Set(static_cast<uint32_t>(i), entry);
  }
  metrics.Set("detectFirstMs", optional_ms(env, result.detection.first));
  metrics.Set("detectMedianMs", optional_ms(env, result.detection.median));
  metrics.Set("detectAllMs", optional_ms(env, result.detection.all));
  metrics.Set("crashes", crashes);

  number("falsePositives", static_cast<double>(result.false_positives));
  number("falseSuspicions", static_cast<double>(result.false_suspicions));
  number("falseDeathEpisodes", static_cast<double>(result.false_death_episodes));
  number("falseSuspicionEpisodes", static_cast<double>(result.false_suspicion_episodes));
  number("falselyDeadMembers", result.falsely_dead_members);
  number("falselySuspectedMembers", result.falsely_suspected_members);

  const TimeMs window = result.steady_until - result.steady_from;
  const uint32_t n = result.steady_members;
  number("steadyMs", static_cast<double>(window));
  number("msgsPerNodePerSec",
         per_node_per_sec(result.steady.datagrams + result.steady.stream_frames, n, window));
  number("bytesPerNodePerSec",
         per_node_per_sec(result.steady.datagram_bytes + result.steady.stream_bytes, n, window));
  number("datagramsPerNodePerSec", per_node_per_sec(result.steady.datagrams, n, window));
  number("streamBytesPerNodePerSec", per_node_per_sec(result.steady.stream_bytes, n, window));

  const double squared =
      static_cast<double>(result.memory_members) * static_cast<double>(result.memory_members);
  number("bytesPerMember",
         squared > 0
             ? static_cast<double>(result.engine_memory_bytes + result.pool_memory_bytes) / squared
             : 0);
  number("engineMemoryBytes", static_cast<double>(result.engine_memory_bytes));
  number("poolMemoryBytes", static_cast<double>(result.pool_memory_bytes));

  Napi::Array actions = Napi::Array::New(env, result.actions.size());
  for (size_t i = 0; i < result.actions.size(); ++i) {
    const auto& action = result.actions[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("kind", sim::action_name(action.kind));
    entry.Set("ran", action.ran);
    entry.Set("at",
              action.ran ? Napi::Number::New(env, static_cast<double>(action.at)) : env.Null());
    entry.Set("allAliveAfterMs",
              action.all_alive_at
                  ? Napi::Number::New(env, static_cast<double>(*action.all_alive_at - action.at))
                  : env.Null());
    actions.Set(static_cast<uint32_t>(i), entry);
  }
  metrics.Set("actions", actions);

  number("endedAt", static_cast<double>(result.ended_at));
  number("queueEvents", static_cast<double>(result.queue_events));
  number("eventCount", static_cast<double>(result.log.count()));
  number("datagramsSent", static_cast<double>(result.total.datagrams));
  number("datagramBytesSent", static_cast<double>(result.total.datagram_bytes));
  number("streamFrames", static_cast<double>(result.total.stream_frames));
  number("streamBytes", static_cast<double>(result.total.stream_bytes));
  number("datagramsLost", static_cast<double>(result.datagrams_lost));
  number("datagramsUnreachable", static_cast<double>(result.datagrams_unreachable));
  number("datagramsOverflowed", static_cast<double>(result.datagrams_overflowed));
  number("streamsFailed", static_cast<double>(result.streams_failed));
  number("streamRetransmits", static_cast<double>(result.stream_retransmits));
  number("floodDelivered", static_cast<double>(result.flood_delivered));
  number("floodEngineNsPerPacket", result.flood_delivered > 0
                                       ? static_cast<double>(result.flood_engine_ns) /
                                             static_cast<double>(result.flood_delivered)
                                       : 0);
  Napi::Array memory = Napi::Array::New(env, result.memory_at_end.size());
  for (size_t i = 0; i < result.memory_at_end.size(); ++i) {
    memory.Set(static_cast<uint32_t>(i), static_cast<double>(result.memory_at_end[i]));
  }
  metrics.Set("memoryAtEndBytes", memory);
  metrics.Set("allAliveAtEnd", result.all_alive_at_end);
  number("runningAtEnd", result.running_at_end);
  return metrics;
}

// The configuration the engines ran with (profile plus overrides), by the same names.
Napi::Object config_object(Napi::Env env, const core::Config& config) {
  Napi::Object out = Napi::Object::New(env);
  for (const auto& f : kTimeFields) out.Set(f.key, static_cast<double>(config.*f.field));
  for (const auto& f : kCountFields) out.Set(f.key, config.*f.field);
  for (const auto& f : kSizeFields) out.Set(f.key, static_cast<double>(config.*f.field));
  out.Set("tcpFallbackProbe", config.tcp_fallback_probe);
  return out;
}

Napi::Value simulate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sim::Scenario scenario = parse_scenario(env, info[0]);
  const core::Config config = scenario.config;
  sim::SimResult result;
  try {
    result = sim::simulate(std::move(scenario));
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, std::string("simulate: ") + error.what());
  }

  Napi::Object out = Napi::Object::New(env);
  const auto& events = result.log.events();
  Napi::Array list = Napi::Array::New(env, events.size());
  // Names repeat N times each; convert each once.
  std::vector<Napi::Value> names;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& event = events[i];
    if (event.observer >= names.size()) names.resize(event.observer + 1);
    if (names[event.observer].IsEmpty()) {
      names[event.observer] = Napi::String::New(env, sim::member_name(event.observer));
    }
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("member", names[event.observer]);
    entry.Set("about", event.about);
    entry.Set("kind", core::event_name(event.kind));
    entry.Set("state", wire::state_name(event.state));
    entry.Set("incarnation", static_cast<double>(event.incarnation));
    entry.Set("at", static_cast<double>(event.at));
    Napi::Object tags = Napi::Object::New(env);
    for (const auto& [key, tag] : event.tags) tags.Set(key, tag);
    entry.Set("tags", tags);
    list.Set(static_cast<uint32_t>(i), entry);
  }
  out.Set("events", list);
  out.Set("metrics", metrics_object(env, result));
  out.Set("logHash", hex64(result.log.hash()));
  out.Set("config", config_object(env, config));
  return out;
}

}  // namespace

void RegisterSim(Napi::Env env, Napi::Object exports) {
  Napi::Object sim = Napi::Object::New(env);
  sim.Set("simulate", Napi::Function::New(env, simulate, "simulate"));
  exports.Set("sim", sim);
}

}  // namespace constellation::addon
