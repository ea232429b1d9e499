// Test access to one engine (foca-style unit tests), `addon.engine`. Internal, not public API.
//
//   new Engine({ local: Buffer, seed, profile?: 'lan'|'wan'|'local', config?: {...} })
//     `local` is an encoded packet whose first message is an ALIVE carrying the local record
//     (build it with addon.codec.encode); records leave the engine the same way, as encoded
//     ALIVE packets, so all record conversion stays in the codec binding.
//   receive(address, port, datagram, now)  tick(now)  join([{address, port}], now)  leave(now)
//   updateLocal(resources, tags, now) -> 'none' | 'record_too_large' | 'left'
//   forceLeave(name, now) -> boolean
//   streamResponse(id, frame, now) -> boolean   streamFailed(id, now)
//   serveStream(address, port, frame, now) -> Buffer | null
//   drain() -> { datagrams: [{address, port, bytes}], streams: [{id, address, port, kind,
//               frame}], events: [{kind, state, incarnation, record, at}] }  (clears outputs)
//   nextDeadline() -> number | null   members() / member(name)   count(state)   local()
//   incarnation()  healthScore()  counters()  suspicionDeadline(name)
//   suspicionConfirmations(name)  pendingBroadcasts()  hasLeft()  leaveComplete()
//   memoryBytes()  poolRecords() (sweeps the pool first)
// Module functions: profile(name) -> config object, suspicionTimeouts(mult, maxMult,
// intervalMs, n, confirmations) -> { minMs, maxMs, k, timeoutMs }, retransmitLimit(mult, n),
// memberEntryBytes.
#include <arpa/inet.h>

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "addon/bindings.h"
#include "core/broadcast_queue.h"
#include "core/engine.h"
#include "core/member_table.h"
#include "core/suspicion.h"
#include "wire/codec.h"

namespace constellation::addon {

namespace {

namespace c = constellation::core;
namespace w = constellation::wire;

[[noreturn]] void type_error(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

int64_t to_time(Napi::Value value, const char* field) {
  if (!value.IsNumber()) type_error(value.Env(), std::string(field) + " must be a number (ms)");
  const double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d || std::fabs(d) > 9007199254740991.0) {
    type_error(value.Env(), std::string(field) + " must be an integer number of ms");
  }
  return static_cast<int64_t>(d);
}

uint64_t to_uint(Napi::Value value, const std::string& field, uint64_t max) {
  if (value.IsBigInt()) {
    bool lossless = false;
    const uint64_t v = value.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless || v > max) type_error(value.Env(), field + " is out of range");
    return v;
  }
  if (!value.IsNumber()) type_error(value.Env(), field + " must be a non-negative integer");
  const double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || std::trunc(d) != d || d > 9007199254740991.0 ||
      static_cast<uint64_t>(d) > max) {
    type_error(value.Env(), field + " must be an integer 0.." + std::to_string(max));
  }
  return static_cast<uint64_t>(d);
}

std::string to_string(Napi::Value value, const char* field) {
  if (!value.IsString()) type_error(value.Env(), std::string(field) + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

std::span<const uint8_t> to_bytes(Napi::Value value, const char* field) {
  if (!value.IsBuffer()) type_error(value.Env(), std::string(field) + " must be a Buffer");
  auto buffer = value.As<Napi::Buffer<uint8_t>>();
  return {buffer.Data(), buffer.Length()};
}

w::Address to_address(Napi::Value address, Napi::Value port) {
  const std::string text = to_string(address, "address");
  w::Address out;
  if (inet_pton(AF_INET, text.c_str(), out.bytes.data()) == 1) {
    out.family = w::Address::Family::kV4;
  } else if (inet_pton(AF_INET6, text.c_str(), out.bytes.data()) == 1) {
    out.family = w::Address::Family::kV6;
  } else {
    type_error(address.Env(), "address must be an IPv4 or IPv6 address");
  }
  out.port = static_cast<uint16_t>(to_uint(port, "port", 65535));
  return out;
}

std::string address_text(const w::Address& address) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = address.family == w::Address::Family::kV6 ? AF_INET6 : AF_INET;
  inet_ntop(family, address.bytes.data(), text, sizeof text);
  return text;
}

Napi::Buffer<uint8_t> to_buffer(Napi::Env env, const std::vector<uint8_t>& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

// A record travels to JavaScript as an encoded ALIVE packet (decoded there by addon.codec).
Napi::Value record_packet(Napi::Env env, const w::MemberRecord& record, w::MemberState state,
                          uint64_t incarnation) {
  w::Alive alive{record};
  alive.member.state = state;
  alive.member.incarnation = incarnation;
  const w::Message message{std::move(alive)};
  return to_buffer(env, w::encode_packet(std::span<const w::Message>(&message, 1)));
}

w::MemberRecord record_from_packet(Napi::Value value) {
  const auto bytes = to_bytes(value, "local");
  w::DecodedPacket packet;
  const w::Limits limits{w::kMaxRecordBytesCeiling};
  if (w::decode_packet(bytes, limits, packet) != w::DecodeError::kNone || packet.messages.empty()) {
    type_error(value.Env(), "local must be an encoded packet starting with an ALIVE");
  }
  auto* alive = std::get_if<w::Alive>(&packet.messages.front());
  if (alive == nullptr) type_error(value.Env(), "local must start with an ALIVE message");
  return std::move(alive->member);
}

// ---- config ---------------------------------------------------------------------------------

struct DurationField {
  const char* key;
  c::TimeMs c::Config::*field;
};
struct CountField {
  const char* key;
  uint32_t c::Config::*field;
};
struct SizeField {
  const char* key;
  size_t c::Config::*field;
};

constexpr DurationField kDurations[] = {
    {"probeIntervalMs", &c::Config::probe_interval_ms},
    {"probeTimeoutMs", &c::Config::probe_timeout_ms},
    {"streamTimeoutMs", &c::Config::stream_timeout_ms},
    {"gossipIntervalMs", &c::Config::gossip_interval_ms},
    {"gossipToTheDeadMs", &c::Config::gossip_to_the_dead_ms},
    {"pushPullIntervalMs", &c::Config::push_pull_interval_ms},
    {"reconnectIntervalMs", &c::Config::reconnect_interval_ms},
    {"deadReapMs", &c::Config::dead_reap_ms},
    {"leftReapMs", &c::Config::left_reap_ms},
    {"leavePropagateMs", &c::Config::leave_propagate_ms},
};
constexpr CountField kCounts[] = {
    {"indirectChecks", &c::Config::indirect_checks},
    {"retransmitMult", &c::Config::retransmit_mult},
    {"gossipNodes", &c::Config::gossip_nodes},
    {"suspicionMult", &c::Config::suspicion_mult},
    {"suspicionMaxTimeoutMult", &c::Config::suspicion_max_timeout_mult},
    {"suspicionConfirmations", &c::Config::suspicion_confirmations},
    {"awarenessMaxMultiplier", &c::Config::awareness_max_multiplier},
};
constexpr SizeField kSizes[] = {
    {"mtu", &c::Config::mtu},
    {"maxRecordBytes", &c::Config::max_record_bytes},
    {"maxMembers", &c::Config::max_members},
    {"maxBroadcasts", &c::Config::max_broadcasts},
};

c::Config profile_named(Napi::Env env, const std::string& name) {
  if (name == "lan") return c::Config::lan();
  if (name == "wan") return c::Config::wan();
  if (name == "local") return c::Config::local();
  type_error(env, "profile must be 'lan', 'wan' or 'local'");
}

void apply_overrides(c::Config& config, Napi::Object overrides) {
  const Napi::Array keys = overrides.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    const Napi::Value value = overrides.Get(key);
    bool known = false;
    for (const auto& f : kDurations) {
      if (key == f.key) {
        config.*f.field = to_time(value, f.key);
        known = true;
      }
    }
    for (const auto& f : kCounts) {
      if (key == f.key) {
        config.*f.field = static_cast<uint32_t>(to_uint(value, key, 0xffffffffu));
        known = true;
      }
    }
    for (const auto& f : kSizes) {
      if (key == f.key) {
        config.*f.field = static_cast<size_t>(to_uint(value, key, 1ull << 40));
        known = true;
      }
    }
    if (key == "tcpFallbackProbe") {
      if (!value.IsBoolean()) type_error(value.Env(), "tcpFallbackProbe must be a boolean");
      config.tcp_fallback_probe = value.As<Napi::Boolean>().Value();
      known = true;
    }
    if (!known) type_error(overrides.Env(), "unknown config field " + key);
  }
}

Napi::Object config_object(Napi::Env env, const c::Config& config) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& f : kDurations) o.Set(f.key, static_cast<double>(config.*f.field));
  for (const auto& f : kCounts) o.Set(f.key, static_cast<double>(config.*f.field));
  for (const auto& f : kSizes) o.Set(f.key, static_cast<double>(config.*f.field));
  o.Set("tcpFallbackProbe", config.tcp_fallback_probe);
  return o;
}

const char* update_error_name(c::UpdateError error) {
  switch (error) {
    case c::UpdateError::kNone:
      return "none";
    case c::UpdateError::kRecordTooLarge:
      return "record_too_large";
    case c::UpdateError::kLeft:
      return "left";
  }
  return "unknown";
}

w::MemberState state_named(Napi::Env env, const std::string& name) {
  for (uint8_t s = 0; s <= w::kMaxMemberState; ++s) {
    if (name == w::state_name(static_cast<w::MemberState>(s)))
      return static_cast<w::MemberState>(s);
  }
  type_error(env, "state must be alive, suspect, dead or left");
}

// ---- the wrapped engine ---------------------------------------------------------------------

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Engine",
        {
            InstanceMethod<&EngineWrap::Receive>("receive"),
            InstanceMethod<&EngineWrap::Tick>("tick"),
            InstanceMethod<&EngineWrap::Join>("join"),
            InstanceMethod<&EngineWrap::Leave>("leave"),
            InstanceMethod<&EngineWrap::UpdateLocal>("updateLocal"),
            InstanceMethod<&EngineWrap::ForceLeave>("forceLeave"),
            InstanceMethod<&EngineWrap::StreamResponse>("streamResponse"),
            InstanceMethod<&EngineWrap::StreamFailed>("streamFailed"),
            InstanceMethod<&EngineWrap::ServeStream>("serveStream"),
            InstanceMethod<&EngineWrap::Drain>("drain"),
            InstanceMethod<&EngineWrap::NextDeadline>("nextDeadline"),
            InstanceMethod<&EngineWrap::Members>("members"),
            InstanceMethod<&EngineWrap::Member>("member"),
            InstanceMethod<&EngineWrap::Count>("count"),
            InstanceMethod<&EngineWrap::Local>("local"),
            InstanceMethod<&EngineWrap::Incarnation>("incarnation"),
            InstanceMethod<&EngineWrap::HealthScore>("healthScore"),
            InstanceMethod<&EngineWrap::Counters>("counters"),
            InstanceMethod<&EngineWrap::SuspicionDeadline>("suspicionDeadline"),
            InstanceMethod<&EngineWrap::SuspicionConfirmations>("suspicionConfirmations"),
            InstanceMethod<&EngineWrap::PendingBroadcasts>("pendingBroadcasts"),
            InstanceMethod<&EngineWrap::HasLeft>("hasLeft"),
            InstanceMethod<&EngineWrap::LeaveComplete>("leaveComplete"),
            InstanceMethod<&EngineWrap::MemoryBytes>("memoryBytes"),
            InstanceMethod<&EngineWrap::PoolRecords>("poolRecords"),
            InstanceMethod<&EngineWrap::Config>("config"),
        });
  }

  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) type_error(env, "Engine options must be an object");
    const Napi::Object options = info[0].As<Napi::Object>();
    c::Config config = c::Config::lan();
    if (options.Has("profile")) {
      config = profile_named(env, to_string(options.Get("profile"), "profile"));
    }
    if (options.Has("config")) {
      if (!options.Get("config").IsObject()) type_error(env, "config must be an object");
      apply_overrides(config, options.Get("config").As<Napi::Object>());
    }
    const uint64_t seed = to_uint(options.Get("seed"), "seed", ~uint64_t{0});
    w::MemberRecord local = record_from_packet(options.Get("local"));
    try {
      engine_ = std::make_unique<c::Engine>(config, std::move(local), seed);
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    }
  }

 private:
  Napi::Value Receive(const Napi::CallbackInfo& info) {
    const w::Address from = to_address(info[0], info[1]);
    engine_->receive(from, to_bytes(info[2], "datagram"), to_time(info[3], "now"));
    return info.Env().Undefined();
  }

  Napi::Value Tick(const Napi::CallbackInfo& info) {
    engine_->tick(to_time(info[0], "now"));
    return info.Env().Undefined();
  }

  Napi::Value Join(const Napi::CallbackInfo& info) {
    if (!info[0].IsArray()) type_error(info.Env(), "seeds must be an array");
    const Napi::Array list = info[0].As<Napi::Array>();
    std::vector<w::Address> seeds;
    for (uint32_t i = 0; i < list.Length(); ++i) {
      const Napi::Value item = list.Get(i);
      if (!item.IsObject()) type_error(info.Env(), "each seed must be { address, port }");
      const Napi::Object seed = item.As<Napi::Object>();
      seeds.push_back(to_address(seed.Get("address"), seed.Get("port")));
    }
    engine_->join(seeds, to_time(info[1], "now"));
    return info.Env().Undefined();
  }

  Napi::Value Leave(const Napi::CallbackInfo& info) {
    engine_->leave(to_time(info[0], "now"));
    return info.Env().Undefined();
  }

  Napi::Value UpdateLocal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[1].IsObject()) {
      type_error(env, "updateLocal(resources, tags, now)");
    }
    const Napi::Object r = info[0].As<Napi::Object>();
    w::Resources resources;
    constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
    constexpr uint64_t kU64 = std::numeric_limits<uint64_t>::max();
    resources.max_instances =
        static_cast<uint32_t>(to_uint(r.Get("maxInstances"), "maxInstances", kU32));
    resources.current_instances =
        static_cast<uint32_t>(to_uint(r.Get("currentInstances"), "currentInstances", kU32));
    resources.cpu_total_milli =
        static_cast<uint32_t>(to_uint(r.Get("cpuTotalMilli"), "cpuTotalMilli", kU32));
    resources.cpu_available_milli =
        static_cast<uint32_t>(to_uint(r.Get("cpuAvailableMilli"), "cpuAvailableMilli", kU32));
    resources.ram_total_mb = to_uint(r.Get("ramTotalMb"), "ramTotalMb", kU64);
    resources.ram_available_mb = to_uint(r.Get("ramAvailableMb"), "ramAvailableMb", kU64);
    const Napi::Object t = info[1].As<Napi::Object>();
    const Napi::Array keys = t.GetPropertyNames();
    w::Tags tags;
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
      tags.emplace_back(key, to_string(t.Get(key), "tag value"));
    }
    const c::UpdateError error =
        engine_->update_local(resources, std::move(tags), to_time(info[2], "now"));
    return Napi::String::New(env, update_error_name(error));
  }

  Napi::Value ForceLeave(const Napi::CallbackInfo& info) {
    const bool done = engine_->force_leave(to_string(info[0], "name"), to_time(info[1], "now"));
    return Napi::Boolean::New(info.Env(), done);
  }

  Napi::Value StreamResponse(const Napi::CallbackInfo& info) {
    const uint64_t id = to_uint(info[0], "id", ~uint64_t{0});
    const bool used =
        engine_->stream_response(id, to_bytes(info[1], "frame"), to_time(info[2], "now"));
    return Napi::Boolean::New(info.Env(), used);
  }

  Napi::Value StreamFailed(const Napi::CallbackInfo& info) {
    engine_->stream_failed(to_uint(info[0], "id", ~uint64_t{0}), to_time(info[1], "now"));
    return info.Env().Undefined();
  }

  Napi::Value ServeStream(const Napi::CallbackInfo& info) {
    const w::Address from = to_address(info[0], info[1]);
    const std::vector<uint8_t> reply =
        engine_->serve_stream(from, to_bytes(info[2], "frame"), to_time(info[3], "now"));
    if (reply.empty()) return info.Env().Null();
    return to_buffer(info.Env(), reply);
  }

  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    c::Outputs& out = engine_->outputs();
    Napi::Array datagrams = Napi::Array::New(env, out.datagrams.size());
    for (uint32_t i = 0; i < out.datagrams.size(); ++i) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("address", address_text(out.datagrams[i].to));
      d.Set("port", out.datagrams[i].to.port);
      d.Set("bytes", to_buffer(env, out.datagrams[i].bytes));
      datagrams.Set(i, d);
    }
    Napi::Array streams = Napi::Array::New(env, out.streams.size());
    for (uint32_t i = 0; i < out.streams.size(); ++i) {
      const c::StreamRequest& s = out.streams[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("id", static_cast<double>(s.id));
      o.Set("address", address_text(s.to));
      o.Set("port", s.to.port);
      o.Set("kind", c::stream_kind_name(s.kind));
      o.Set("frame", to_buffer(env, s.frame));
      streams.Set(i, o);
    }
    Napi::Array events = Napi::Array::New(env, out.events.size());
    for (uint32_t i = 0; i < out.events.size(); ++i) {
      const c::Event& e = out.events[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", c::event_name(e.kind));
      o.Set("state", w::state_name(e.state));
      o.Set("incarnation", Napi::BigInt::New(env, e.incarnation));
      o.Set("name", e.member->name);
      o.Set("record", record_packet(env, *e.member, e.state, e.incarnation));
      o.Set("at", static_cast<double>(e.at));
      events.Set(i, o);
    }
    out.clear();
    Napi::Object result = Napi::Object::New(env);
    result.Set("datagrams", datagrams);
    result.Set("streams", streams);
    result.Set("events", events);
    return result;
  }

  Napi::Value NextDeadline(const Napi::CallbackInfo& info) {
    const c::TimeMs next = engine_->next_deadline();
    if (next == c::kNever) return info.Env().Null();
    return Napi::Number::New(info.Env(), static_cast<double>(next));
  }

  static Napi::Object member_object(Napi::Env env, const c::MemberInfo& m) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", m.record->name);
    o.Set("state", w::state_name(m.state));
    o.Set("incarnation", Napi::BigInt::New(env, m.incarnation));
    o.Set("stateChangedAt", static_cast<double>(m.state_changed_at));
    o.Set("isLocal", m.is_local);
    o.Set("record", record_packet(env, *m.record, m.state, m.incarnation));
    return o;
  }

  Napi::Value Members(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto all = engine_->members();
    Napi::Array array = Napi::Array::New(env, all.size());
    for (uint32_t i = 0; i < all.size(); ++i) array.Set(i, member_object(env, all[i]));
    return array;
  }

  Napi::Value Member(const Napi::CallbackInfo& info) {
    const auto m = engine_->member(to_string(info[0], "name"));
    if (!m) return info.Env().Null();
    return member_object(info.Env(), *m);
  }

  Napi::Value Count(const Napi::CallbackInfo& info) {
    const w::MemberState state = state_named(info.Env(), to_string(info[0], "state"));
    return Napi::Number::New(info.Env(), static_cast<double>(engine_->count(state)));
  }

  Napi::Value Local(const Napi::CallbackInfo& info) {
    return record_packet(info.Env(), engine_->local(), w::MemberState::kAlive,
                         engine_->incarnation());
  }

  Napi::Value Incarnation(const Napi::CallbackInfo& info) {
    return Napi::BigInt::New(info.Env(), engine_->incarnation());
  }

  Napi::Value HealthScore(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), engine_->health_score());
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const c::Counters& k = engine_->counters();
    Napi::Object o = Napi::Object::New(env);
    const auto set = [&](const char* key, uint64_t v) { o.Set(key, static_cast<double>(v)); };
    set("packetsIn", k.packets_in);
    set("packetsOut", k.packets_out);
    set("bytesIn", k.bytes_in);
    set("bytesOut", k.bytes_out);
    set("messagesIn", k.messages_in);
    set("messagesOut", k.messages_out);
    Napi::Object rejected = Napi::Object::New(env);
    for (size_t i = 1; i < w::kDecodeErrorCount; ++i) {
      rejected.Set(w::error_name(static_cast<w::DecodeError>(i)),
                   static_cast<double>(k.rejected[i]));
    }
    o.Set("rejected", rejected);
    set("unknownMessages", k.unknown_messages);
    set("ignoredMessages", k.ignored_messages);
    set("probesSent", k.probes_sent);
    set("acksReceived", k.acks_received);
    set("nacksReceived", k.nacks_received);
    set("indirectProbesSent", k.indirect_probes_sent);
    set("pingReqsServed", k.ping_reqs_served);
    set("nacksSent", k.nacks_sent);
    set("tcpPingsRequested", k.tcp_pings_requested);
    set("probeFailures", k.probe_failures);
    Napi::Object rtt = Napi::Object::New(env);
    Napi::Array buckets = Napi::Array::New(env, k.probe_rtt.buckets.size());
    for (uint32_t i = 0; i < k.probe_rtt.buckets.size(); ++i) {
      buckets.Set(i, static_cast<double>(k.probe_rtt.buckets[i]));
    }
    rtt.Set("buckets", buckets);
    rtt.Set("count", static_cast<double>(k.probe_rtt.count));
    rtt.Set("sumMs", static_cast<double>(k.probe_rtt.sum_ms));
    o.Set("probeRtt", rtt);
    set("suspicions", k.suspicions);
    set("refutations", k.refutations);
    set("accusationsNotified", k.accusations_notified);
    set("deaths", k.deaths);
    set("conflicts", k.conflicts);
    set("broadcastsQueued", k.broadcasts_queued);
    set("broadcastsDropped", k.broadcasts_dropped);
    set("gossipPackets", k.gossip_packets);
    set("syncsRequested", k.syncs_requested);
    set("syncsCompleted", k.syncs_completed);
    set("syncsServed", k.syncs_served);
    set("streamsFailed", k.streams_failed);
    set("streamBytesIn", k.stream_bytes_in);
    set("streamBytesOut", k.stream_bytes_out);
    set("membersReaped", k.members_reaped);
    set("membersRefused", k.members_refused);
    set("stalls", k.stalls);
    return o;
  }

  Napi::Value SuspicionDeadline(const Napi::CallbackInfo& info) {
    const auto deadline = engine_->suspicion_deadline(to_string(info[0], "name"));
    if (!deadline || *deadline == c::kNever) return info.Env().Null();
    return Napi::Number::New(info.Env(), static_cast<double>(*deadline));
  }

  Napi::Value SuspicionConfirmations(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(),
                             engine_->suspicion_confirmations(to_string(info[0], "name")));
  }

  Napi::Value PendingBroadcasts(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(engine_->pending_broadcasts()));
  }

  Napi::Value HasLeft(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_->has_left());
  }

  Napi::Value LeaveComplete(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_->leave_complete());
  }

  Napi::Value MemoryBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(engine_->memory_bytes()));
  }

  // Records left in this engine's pool after a sweep (records nobody holds are released).
  Napi::Value PoolRecords(const Napi::CallbackInfo& info) {
    c::RecordPool& pool = engine_->record_pool();
    pool.sweep();
    return Napi::Number::New(info.Env(), static_cast<double>(pool.size()));
  }

  Napi::Value Config(const Napi::CallbackInfo& info) {
    return config_object(info.Env(), engine_->config());
  }

  std::unique_ptr<c::Engine> engine_;
};

Napi::Value Profile(const Napi::CallbackInfo& info) {
  return config_object(info.Env(), profile_named(info.Env(), to_string(info[0], "profile")));
}

Napi::Value SuspicionTimeouts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto t = c::suspicion_timeouts(static_cast<uint32_t>(to_uint(info[0], "mult", 64)),
                                       static_cast<uint32_t>(to_uint(info[1], "maxMult", 64)),
                                       static_cast<uint32_t>(to_uint(info[2], "k", 64)),
                                       to_time(info[3], "intervalMs"),
                                       static_cast<size_t>(to_uint(info[4], "n", 1u << 30)));
  const auto confirmations = static_cast<uint32_t>(to_uint(info[5], "confirmations", 1u << 30));
  Napi::Object o = Napi::Object::New(env);
  o.Set("minMs", static_cast<double>(t.min_ms));
  o.Set("maxMs", static_cast<double>(t.max_ms));
  o.Set("k", t.expected_confirmations);
  o.Set("timeoutMs", static_cast<double>(c::suspicion_timeout(t, confirmations)));
  return o;
}

Napi::Value RetransmitLimit(const Napi::CallbackInfo& info) {
  return Napi::Number::New(
      info.Env(), c::retransmit_limit(static_cast<uint32_t>(to_uint(info[0], "mult", 1000)),
                                      static_cast<size_t>(to_uint(info[1], "n", 1u << 30))));
}

}  // namespace

void RegisterEngine(Napi::Env env, Napi::Object exports) {
  Napi::Object engine = Napi::Object::New(env);
  engine.Set("Engine", EngineWrap::Define(env));
  engine.Set("profile", Napi::Function::New(env, Profile));
  engine.Set("suspicionTimeouts", Napi::Function::New(env, SuspicionTimeouts));
  engine.Set("retransmitLimit", Napi::Function::New(env, RetransmitLimit));
  engine.Set("memberEntryBytes", static_cast<double>(sizeof(c::Member)));
  exports.Set("engine", engine);
}

}  // namespace constellation::addon
