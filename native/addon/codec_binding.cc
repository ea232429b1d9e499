// JavaScript access to the wire codec, for tests and tools (not public API): `addon.codec`.
//
//   encode(messages, { validate = true }) -> Buffer          one packet
//   decode(buffer, { maxRecordBytes }) -> { ok: true, flags, messages, skippedUnknown }
//                                       | { ok: false, reason }
//   encodeFrame(message) -> Buffer                            TCP frame (length + packet)
//   decodeFrame(buffer, { maxRecordBytes, maxFrameBytes }) -> like decode, plus frameBytes
//   packMtu(messages, mtu) -> { packet, accepted: boolean[] } through PacketBuilder
//   validate(message, { maxRecordBytes }) -> null | reason   what peers would say about it
//   encodedSize(message), encodedRecordSize(record) -> number
//   benchmark(iterations) -> { encodeNsPerMsg, decodeNsPerMsg, messagesPerPacket, ... }
//
// Message objects mirror native/wire/messages.h with camelCase names; u64 fields are BigInt
// on output and BigInt or a safe integer on input. Bad input throws a TypeError naming the
// field. With `validate: false`, encode writes what it is given (empty or long names, any
// user type byte) so tests can build packets the decoder must refuse.
#include <arpa/inet.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "addon/bindings.h"
#include "wire/codec.h"
#include "wire/messages.h"

namespace constellation::addon {

namespace {

namespace w = constellation::wire;

// ---- JS -> native ---------------------------------------------------------------------------

[[noreturn]] void type_error(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

Napi::Object as_object(Napi::Value value, const std::string& field) {
  if (!value.IsObject() || value.IsArray()) type_error(value.Env(), field + " must be an object");
  return value.As<Napi::Object>();
}

uint64_t to_uint(Napi::Value value, const std::string& field, uint64_t max) {
  const std::string range = " must be an integer 0.." + std::to_string(max);
  if (value.IsBigInt()) {
    bool lossless = false;
    const uint64_t v = value.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless || v > max) type_error(value.Env(), field + range);
    return v;
  }
  if (!value.IsNumber()) type_error(value.Env(), field + range);
  const double d = value.As<Napi::Number>().DoubleValue();
  const double limit = std::min(static_cast<double>(max), 9007199254740991.0);
  if (!std::isfinite(d) || d < 0 || d > limit || std::trunc(d) != d) {
    type_error(value.Env(), field + range);
  }
  return static_cast<uint64_t>(d);
}

uint64_t get_uint(Napi::Object object, const char* key, const std::string& path, uint64_t max) {
  return to_uint(object.Get(key), path + "." + key, max);
}

uint64_t get_uint_or(Napi::Object object, const char* key, const std::string& path, uint64_t max,
                     uint64_t fallback) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  return to_uint(value, path + "." + key, max);
}

bool get_bool_or(Napi::Object object, const char* key, const std::string& path, bool fallback) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsBoolean()) type_error(object.Env(), path + "." + key + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

struct Context {
  bool validate = true;
};

std::string get_string(Napi::Object object, const char* key, const std::string& path,
                       size_t min_len, size_t max_len, const Context& ctx) {
  Napi::Value value = object.Get(key);
  const std::string field = path + "." + key;
  if (!value.IsString()) type_error(object.Env(), field + " must be a string");
  std::string s = value.As<Napi::String>().Utf8Value();
  if (ctx.validate && (s.size() < min_len || s.size() > max_len)) {
    type_error(object.Env(), field + " must be " + std::to_string(min_len) + ".." +
                                 std::to_string(max_len) + " bytes of UTF-8");
  }
  return s;
}

std::string get_name(Napi::Object object, const char* key, const std::string& path,
                     const Context& ctx) {
  return get_string(object, key, path, 1, w::kMaxNameBytes, ctx);
}

w::Address to_address(Napi::Object object, const char* address_key, const char* port_key,
                      const std::string& path) {
  Napi::Value value = object.Get(address_key);
  const std::string field = path + "." + address_key;
  if (!value.IsString()) type_error(object.Env(), field + " must be an IPv4 or IPv6 string");
  const std::string text = value.As<Napi::String>().Utf8Value();
  w::Address address;
  if (inet_pton(AF_INET, text.c_str(), address.bytes.data()) == 1) {
    address.family = w::Address::Family::kV4;
  } else if (inet_pton(AF_INET6, text.c_str(), address.bytes.data()) == 1) {
    address.family = w::Address::Family::kV6;
  } else {
    type_error(object.Env(), field + " must be an IPv4 or IPv6 string");
  }
  address.port = static_cast<uint16_t>(get_uint(object, port_key, path, 65535));
  return address;
}

w::MemberState to_state(Napi::Object object, const std::string& path) {
  Napi::Value value = object.Get("state");
  if (value.IsString()) {
    const std::string s = value.As<Napi::String>().Utf8Value();
    for (uint8_t i = 0; i <= w::kMaxMemberState; ++i) {
      const auto state = static_cast<w::MemberState>(i);
      if (s == w::state_name(state)) return state;
    }
  }
  type_error(object.Env(), path + ".state must be 'alive', 'suspect', 'dead' or 'left'");
}

constexpr uint64_t kU8 = std::numeric_limits<uint8_t>::max();
constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kU64 = std::numeric_limits<uint64_t>::max();

w::MemberRecord to_record(Napi::Value value, const std::string& path, const Context& ctx) {
  Napi::Object object = as_object(value, path);
  w::MemberRecord record;
  record.name = get_name(object, "name", path, ctx);
  record.id = get_uint(object, "id", path, kU64);
  record.address = to_address(object, "address", "port", path);
  record.state = to_state(object, path);
  record.incarnation = get_uint(object, "incarnation", path, kU64);
  Napi::Value versions = object.Get("versions");
  if (!versions.IsUndefined()) {
    const std::string vpath = path + ".versions";
    Napi::Object v = as_object(versions, vpath);
    record.versions.min = static_cast<uint8_t>(get_uint(v, "min", vpath, kU8));
    record.versions.max = static_cast<uint8_t>(get_uint(v, "max", vpath, kU8));
    record.versions.current = static_cast<uint8_t>(get_uint(v, "current", vpath, kU8));
  }
  Napi::Value resources = object.Get("resources");
  if (!resources.IsUndefined()) {
    const std::string rpath = path + ".resources";
    Napi::Object r = as_object(resources, rpath);
    w::Resources& out = record.resources;
    out.max_instances = static_cast<uint32_t>(get_uint_or(r, "maxInstances", rpath, kU32, 0));
    out.current_instances =
        static_cast<uint32_t>(get_uint_or(r, "currentInstances", rpath, kU32, 0));
    out.cpu_total_milli = static_cast<uint32_t>(get_uint_or(r, "cpuTotalMilli", rpath, kU32, 0));
    out.cpu_available_milli =
        static_cast<uint32_t>(get_uint_or(r, "cpuAvailableMilli", rpath, kU32, 0));
    out.ram_total_mb = get_uint_or(r, "ramTotalMb", rpath, kU64, 0);
    out.ram_available_mb = get_uint_or(r, "ramAvailableMb", rpath, kU64, 0);
  }
  Napi::Value tags = object.Get("tags");
  if (!tags.IsUndefined()) {
    const std::string tpath = path + ".tags";
    Napi::Object t = as_object(tags, tpath);
    Napi::Array keys = t.GetPropertyNames();
    record.tags.reserve(keys.Length());
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).ToString().Utf8Value();
      if (ctx.validate && (key.empty() || key.size() > w::kMaxNameBytes)) {
        type_error(object.Env(), tpath + " keys must be 1..255 bytes of UTF-8");
      }
      Napi::Value v = t.Get(key);
      if (!v.IsString()) type_error(object.Env(), tpath + "['" + key + "'] must be a string");
      record.tags.emplace_back(key, v.As<Napi::String>().Utf8Value());
    }
  }
  return record;
}

std::vector<w::MemberRecord> to_records(Napi::Object object, const std::string& path,
                                        const Context& ctx) {
  Napi::Value value = object.Get("members");
  const std::string field = path + ".members";
  if (!value.IsArray()) type_error(object.Env(), field + " must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<w::MemberRecord> records;
  records.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    records.push_back(to_record(array.Get(i), field + "[" + std::to_string(i) + "]", ctx));
  }
  return records;
}

// A SYNC_REQUEST's `have` filter: { salt, hashes, bits }.
w::HaveFilter to_have(Napi::Value value, const std::string& path, const Context& ctx) {
  Napi::Object o = as_object(value, path);
  w::HaveFilter have;
  have.salt = get_uint(o, "salt", path, kU64);
  const uint64_t max_hashes = ctx.validate ? w::kMaxHaveFilterHashes : kU8;
  have.hashes = static_cast<uint8_t>(get_uint(o, "hashes", path, max_hashes));
  if (ctx.validate && have.hashes == 0) type_error(o.Env(), path + ".hashes must be at least 1");
  Napi::Value bits = o.Get("bits");
  if (!bits.IsTypedArray() || bits.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    type_error(o.Env(), path + ".bits must be a Uint8Array or Buffer");
  }
  auto array = bits.As<Napi::Uint8Array>();
  if (ctx.validate &&
      (array.ElementLength() == 0 || array.ElementLength() > w::kMaxHaveFilterBytes)) {
    type_error(o.Env(),
               path + ".bits must hold 1.." + std::to_string(w::kMaxHaveFilterBytes) + " bytes");
  }
  have.bits.assign(array.Data(), array.Data() + array.ElementLength());
  return have;
}

w::Message to_message(Napi::Value value, const std::string& path, const Context& ctx) {
  Napi::Object o = as_object(value, path);
  Napi::Value type_value = o.Get("type");
  const std::string type = type_value.IsString() ? type_value.As<Napi::String>().Utf8Value() : "";
  if (type == "ping") {
    return w::Ping{static_cast<uint32_t>(get_uint(o, "seq", path, kU32)),
                   get_name(o, "source", path, ctx), get_name(o, "target", path, ctx)};
  }
  if (type == "ack") {
    return w::Ack{static_cast<uint32_t>(get_uint(o, "seq", path, kU32)),
                  get_name(o, "source", path, ctx)};
  }
  if (type == "nack") {
    return w::Nack{static_cast<uint32_t>(get_uint(o, "seq", path, kU32)),
                   get_name(o, "source", path, ctx)};
  }
  if (type == "ping_req") {
    w::PingReq m;
    m.seq = static_cast<uint32_t>(get_uint(o, "seq", path, kU32));
    m.source = get_name(o, "source", path, ctx);
    m.target = get_name(o, "target", path, ctx);
    m.target_address = to_address(o, "targetAddress", "targetPort", path);
    m.want_nack = get_bool_or(o, "wantNack", path, true);
    return m;
  }
  if (type == "alive") return w::Alive{to_record(o.Get("member"), path + ".member", ctx)};
  if (type == "suspect" || type == "dead") {
    const uint64_t incarnation = get_uint(o, "incarnation", path, kU64);
    std::string target = get_name(o, "target", path, ctx);
    std::string from = get_name(o, "from", path, ctx);
    if (type == "suspect") return w::Suspect{incarnation, std::move(target), std::move(from)};
    return w::Dead{incarnation, std::move(target), std::move(from)};
  }
  if (type == "leave") {
    return w::Leave{get_uint(o, "incarnation", path, kU64), get_name(o, "name", path, ctx)};
  }
  if (type == "sync_request" || type == "sync_response") {
    const bool join = get_bool_or(o, "join", path, false);
    std::vector<w::MemberRecord> members = to_records(o, path, ctx);
    if (type == "sync_request") {
      w::SyncRequest request{join, std::move(members), {}};
      Napi::Value have = o.Get("have");
      if (!have.IsUndefined()) request.have = to_have(have, path + ".have", ctx);
      return request;
    }
    return w::SyncResponse{join, std::move(members)};
  }
  if (type == "user") {
    w::UserMessage m;
    // Unvalidated, any type byte may be written: tests use it for unknown and zero types.
    const uint64_t min_type = ctx.validate ? static_cast<uint8_t>(w::MessageType::kUserFirst) : 0;
    const uint64_t user_type = get_uint(o, "userType", path, kU8);
    if (user_type < min_type) type_error(o.Env(), path + ".userType must be an integer 128..255");
    m.type = static_cast<uint8_t>(user_type);
    Napi::Value payload = o.Get("payload");
    if (!payload.IsTypedArray() ||
        payload.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      type_error(o.Env(), path + ".payload must be a Uint8Array or Buffer");
    }
    auto bytes = payload.As<Napi::Uint8Array>();
    m.payload.assign(bytes.Data(), bytes.Data() + bytes.ElementLength());
    return m;
  }
  type_error(o.Env(), path +
                          ".type must be one of ping, ack, ping_req, nack, alive, suspect, dead, "
                          "leave, sync_request, sync_response, user");
}

std::vector<w::Message> to_messages(Napi::Value value, const Context& ctx) {
  if (!value.IsArray()) type_error(value.Env(), "messages must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<w::Message> messages;
  messages.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    messages.push_back(to_message(array.Get(i), "messages[" + std::to_string(i) + "]", ctx));
  }
  return messages;
}

Napi::Object options_of(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || info[index].IsUndefined()) return Napi::Object::New(info.Env());
  return as_object(info[index], "options");
}

Context encode_context(const Napi::CallbackInfo& info, size_t index) {
  Context ctx;
  ctx.validate = get_bool_or(options_of(info, index), "validate", "options", true);
  return ctx;
}

w::Limits decode_limits(Napi::Object options) {
  w::Limits limits;
  limits.max_record_bytes = get_uint_or(options, "maxRecordBytes", "options",
                                        w::kMaxRecordBytesCeiling, w::kDefaultMaxRecordBytes);
  return limits;
}

std::span<const uint8_t> bytes_of(Napi::Value value, const char* field) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    type_error(value.Env(), std::string(field) + " must be a Uint8Array or Buffer");
  }
  auto array = value.As<Napi::Uint8Array>();
  return {array.Data(), array.ElementLength()};
}

Napi::Buffer<uint8_t> to_buffer(Napi::Env env, const std::vector<uint8_t>& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

// ---- native -> JS ---------------------------------------------------------------------------

Napi::Value big(Napi::Env env, uint64_t v) { return Napi::BigInt::New(env, v); }
Napi::Value num(Napi::Env env, double v) { return Napi::Number::New(env, v); }

std::string address_text(const w::Address& address) {
  char text[INET6_ADDRSTRLEN] = {};
  const int family = address.family == w::Address::Family::kV6 ? AF_INET6 : AF_INET;
  inet_ntop(family, address.bytes.data(), text, sizeof text);
  return text;
}

Napi::Object from_record(Napi::Env env, const w::MemberRecord& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", m.name);
  o.Set("id", big(env, m.id));
  o.Set("address", address_text(m.address));
  o.Set("port", num(env, m.address.port));
  o.Set("state", w::state_name(m.state));
  o.Set("incarnation", big(env, m.incarnation));
  Napi::Object versions = Napi::Object::New(env);
  versions.Set("min", num(env, m.versions.min));
  versions.Set("max", num(env, m.versions.max));
  versions.Set("current", num(env, m.versions.current));
  o.Set("versions", versions);
  Napi::Object r = Napi::Object::New(env);
  r.Set("maxInstances", num(env, m.resources.max_instances));
  r.Set("currentInstances", num(env, m.resources.current_instances));
  r.Set("cpuTotalMilli", num(env, m.resources.cpu_total_milli));
  r.Set("cpuAvailableMilli", num(env, m.resources.cpu_available_milli));
  r.Set("ramTotalMb", big(env, m.resources.ram_total_mb));
  r.Set("ramAvailableMb", big(env, m.resources.ram_available_mb));
  o.Set("resources", r);
  // Defined, not assigned, so a peer's "__proto__" tag stays an ordinary own property instead of
  // reaching the prototype setter. A key repeated on the wire keeps its last value.
  Napi::Object tags = Napi::Object::New(env);
  for (const auto& [key, value] : m.tags) {
    tags.DefineProperty(Napi::PropertyDescriptor::Value(
        Napi::String::New(env, key), Napi::String::New(env, value), napi_default_jsproperty));
  }
  o.Set("tags", tags);
  return o;
}

Napi::Array from_records(Napi::Env env, const std::vector<w::MemberRecord>& members) {
  Napi::Array array = Napi::Array::New(env, members.size());
  for (uint32_t i = 0; i < members.size(); ++i) array.Set(i, from_record(env, members[i]));
  return array;
}

Napi::Object from_message(Napi::Env env, const w::Message& message) {
  Napi::Object o = Napi::Object::New(env);
  const w::MessageType type = w::type_of(message);
  o.Set("type", w::type_name(type));
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, w::Ping>) {
          o.Set("seq", num(env, m.seq));
          o.Set("source", m.source);
          o.Set("target", m.target);
        } else if constexpr (std::is_same_v<T, w::Ack> || std::is_same_v<T, w::Nack>) {
          o.Set("seq", num(env, m.seq));
          o.Set("source", m.source);
        } else if constexpr (std::is_same_v<T, w::PingReq>) {
          o.Set("seq", num(env, m.seq));
          o.Set("source", m.source);
          o.Set("target", m.target);
          o.Set("targetAddress", address_text(m.target_address));
          o.Set("targetPort", num(env, m.target_address.port));
          o.Set("wantNack", m.want_nack);
        } else if constexpr (std::is_same_v<T, w::Alive>) {
          o.Set("member", from_record(env, m.member));
        } else if constexpr (std::is_same_v<T, w::Suspect> || std::is_same_v<T, w::Dead>) {
          o.Set("incarnation", big(env, m.incarnation));
          o.Set("target", m.target);
          o.Set("from", m.from);
        } else if constexpr (std::is_same_v<T, w::Leave>) {
          o.Set("incarnation", big(env, m.incarnation));
          o.Set("name", m.name);
        } else if constexpr (std::is_same_v<T, w::SyncRequest> ||
                             std::is_same_v<T, w::SyncResponse>) {
          o.Set("join", m.join);
          o.Set("members", from_records(env, m.members));
          if constexpr (std::is_same_v<T, w::SyncRequest>) {
            if (!m.have.empty()) {
              Napi::Object have = Napi::Object::New(env);
              have.Set("salt", big(env, m.have.salt));
              have.Set("hashes", num(env, m.have.hashes));
              have.Set("bits", to_buffer(env, m.have.bits));
              o.Set("have", have);
            }
          }
        } else {
          o.Set("userType", num(env, m.type));
          o.Set("payload", to_buffer(env, m.payload));
        }
      },
      message);
  return o;
}

Napi::Object decode_result(Napi::Env env, w::DecodeError error, const w::DecodedPacket& packet) {
  Napi::Object result = Napi::Object::New(env);
  if (error != w::DecodeError::kNone) {
    result.Set("ok", false);
    result.Set("reason", w::error_name(error));
    return result;
  }
  result.Set("ok", true);
  result.Set("flags", num(env, packet.flags));
  Napi::Array messages = Napi::Array::New(env, packet.messages.size());
  for (uint32_t i = 0; i < packet.messages.size(); ++i) {
    messages.Set(i, from_message(env, packet.messages[i]));
  }
  result.Set("messages", messages);
  result.Set("skippedUnknown", num(env, static_cast<double>(packet.skipped_unknown)));
  return result;
}

// ---- functions ------------------------------------------------------------------------------

Napi::Value Encode(const Napi::CallbackInfo& info) {
  const Context ctx = encode_context(info, 1);
  const std::vector<w::Message> messages = to_messages(info[0], ctx);
  return to_buffer(info.Env(), w::encode_packet(messages));
}

Napi::Value Decode(const Napi::CallbackInfo& info) {
  const auto bytes = bytes_of(info[0], "buffer");
  const w::Limits limits = decode_limits(options_of(info, 1));
  w::DecodedPacket packet;
  const w::DecodeError error = w::decode_packet(bytes, limits, packet);
  return decode_result(info.Env(), error, packet);
}

Napi::Value EncodeFrame(const Napi::CallbackInfo& info) {
  const Context ctx = encode_context(info, 1);
  const w::Message message = to_message(info[0], "message", ctx);
  return to_buffer(info.Env(), w::encode_frame(message));
}

Napi::Value DecodeFrame(const Napi::CallbackInfo& info) {
  const auto bytes = bytes_of(info[0], "buffer");
  Napi::Object options = options_of(info, 1);
  const w::Limits limits = decode_limits(options);
  const size_t max_frame = get_uint_or(options, "maxFrameBytes", "options", w::kMaxStreamFrameBytes,
                                       w::kMaxStreamFrameBytes);
  uint32_t length = 0;
  w::DecodedPacket packet;
  w::DecodeError error = w::read_frame_length(bytes, max_frame, length);
  if (error == w::DecodeError::kNone && bytes.size() - w::kFrameHeaderSize < length) {
    error = w::DecodeError::kTruncated;
  }
  if (error == w::DecodeError::kNone) {
    error = w::decode_packet(bytes.subspan(w::kFrameHeaderSize, length), limits, packet);
  }
  Napi::Object result = decode_result(info.Env(), error, packet);
  if (error == w::DecodeError::kNone) {
    result.Set("frameBytes", num(info.Env(), w::kFrameHeaderSize + static_cast<double>(length)));
  }
  return result;
}

Napi::Value PackMtu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<w::Message> messages = to_messages(info[0], Context{});
  const size_t mtu = to_uint(info[1], "mtu", w::kMaxStreamFrameBytes);
  w::PacketBuilder builder(mtu);
  Napi::Array accepted = Napi::Array::New(env, messages.size());
  for (uint32_t i = 0; i < messages.size(); ++i) {
    accepted.Set(i, Napi::Boolean::New(env, builder.add(messages[i])));
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("packet", to_buffer(env, builder.take()));
  result.Set("accepted", accepted);
  return result;
}

Napi::Value Validate(const Napi::CallbackInfo& info) {
  const w::Message message = to_message(info[0], "message", Context{.validate = false});
  const w::Limits limits = decode_limits(options_of(info, 1));
  const w::DecodeError error = w::validate_message(message, limits);
  if (error == w::DecodeError::kNone) return info.Env().Null();
  return Napi::String::New(info.Env(), w::error_name(error));
}

Napi::Value EncodedSize(const Napi::CallbackInfo& info) {
  const w::Message message = to_message(info[0], "message", Context{});
  return num(info.Env(), static_cast<double>(w::encoded_size(message)));
}

Napi::Value EncodedRecordSize(const Napi::CallbackInfo& info) {
  const w::MemberRecord record = to_record(info[0], "record", Context{});
  return num(info.Env(), static_cast<double>(w::encoded_record_size(record)));
}

// ---- benchmark ------------------------------------------------------------------------------

w::MemberRecord bench_record(uint32_t i) {
  w::MemberRecord m;
  m.name = "worker-" + std::to_string(1000 + i);
  m.id = 0x9E3779B97F4A7C15ull * (i + 1);
  m.address.bytes = {10, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
  m.address.port = 7946;
  m.incarnation = 3 + i;
  m.resources = {16, 3, 8000, 5250, 32768, 20480};
  m.tags = {{"zone", "eu-west-1a"}, {"role", "api"}};
  return m;
}

// Compound packets shaped like gossip traffic: a probe with piggybacked updates.
std::vector<std::vector<w::Message>> bench_packets() {
  std::vector<std::vector<w::Message>> packets;
  packets.push_back({w::Ping{41, "worker-1001", "worker-1002"}, w::Alive{bench_record(7)},
                     w::Suspect{12, "worker-1009", "worker-1001"},
                     w::Dead{11, "worker-1010", "worker-1003"}});
  packets.push_back({w::Ack{41, "worker-1002"}, w::Alive{bench_record(8)},
                     w::Alive{bench_record(9)}, w::Leave{4, "worker-1011"}});
  packets.push_back({w::PingReq{77, "worker-1001", "worker-1004", bench_record(4).address, true},
                     w::Nack{76, "worker-1005"}, w::Suspect{2, "worker-1012", "worker-1006"},
                     w::Ping{78, "worker-1001", "worker-1013"}});
  return packets;
}

Napi::Value Benchmark(const Napi::CallbackInfo& info) {
  using Clock = std::chrono::steady_clock;
  const uint64_t iterations = to_uint(info[0], "iterations", 1ull << 32);
  const auto packets = bench_packets();
  size_t messages_per_round = 0;
  size_t bytes_per_round = 0;
  std::vector<std::vector<uint8_t>> encoded;
  for (const auto& p : packets) {
    messages_per_round += p.size();
    encoded.push_back(w::encode_packet(p));
    bytes_per_round += encoded.back().size();
  }

  // Encode into a reused buffer, as the engine's send path does.
  std::vector<uint8_t> out;
  out.reserve(w::kDefaultMtu);
  size_t checksum = 0;
  const auto encode_start = Clock::now();
  for (uint64_t i = 0; i < iterations; ++i) {
    for (const auto& p : packets) {
      out.clear();
      w::encode_header(p.size() > 1 ? w::kFlagCompound : 0, out);
      for (const auto& m : p) w::encode_message(m, out);
      checksum += out.size() + out[out.size() / 2];
    }
  }
  const auto encode_ns = std::chrono::duration<double, std::nano>(Clock::now() - encode_start);

  // Decode into a reused packet, as the engine's receive path does.
  w::DecodedPacket packet;
  const w::Limits limits;
  size_t failures = 0;
  const auto decode_start = Clock::now();
  for (uint64_t i = 0; i < iterations; ++i) {
    for (const auto& bytes : encoded) {
      if (w::decode_packet(bytes, limits, packet) != w::DecodeError::kNone) ++failures;
      checksum += packet.messages.size();
    }
  }
  const auto decode_ns = std::chrono::duration<double, std::nano>(Clock::now() - decode_start);

  if (failures > 0) throw Napi::Error::New(info.Env(), "benchmark packets failed to decode");
  const double total = static_cast<double>(iterations * messages_per_round);
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("encodeNsPerMsg", num(env, encode_ns.count() / total));
  result.Set("decodeNsPerMsg", num(env, decode_ns.count() / total));
  result.Set("messages", num(env, total));
  result.Set("messagesPerPacket", num(env, static_cast<double>(messages_per_round) /
                                               static_cast<double>(packets.size())));
  result.Set("bytesPerMsg", num(env, static_cast<double>(bytes_per_round) /
                                         static_cast<double>(messages_per_round)));
  result.Set("checksum", num(env, static_cast<double>(checksum)));
  return result;
}

}  // namespace

void RegisterCodec(Napi::Env env, Napi::Object exports) {
  Napi::Object codec = Napi::Object::New(env);
  codec.Set("encode", Napi::Function::New(env, Encode, "encode"));
  codec.Set("decode", Napi::Function::New(env, Decode, "decode"));
  codec.Set("encodeFrame", Napi::Function::New(env, EncodeFrame, "encodeFrame"));
  codec.Set("decodeFrame", Napi::Function::New(env, DecodeFrame, "decodeFrame"));
  codec.Set("packMtu", Napi::Function::New(env, PackMtu, "packMtu"));
  codec.Set("validate", Napi::Function::New(env, Validate, "validate"));
  codec.Set("encodedSize", Napi::Function::New(env, EncodedSize, "encodedSize"));
  codec.Set("encodedRecordSize", Napi::Function::New(env, EncodedRecordSize, "encodedRecordSize"));
  codec.Set("benchmark", Napi::Function::New(env, Benchmark, "benchmark"));
  exports.Set("codec", codec);
}

}  // namespace constellation::addon
