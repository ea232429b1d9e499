// Test and tool access to the envelope and the keyring, `addon.envelope`. Internal, not public
// API: the runtime seals and opens on its own thread; this binding lets tests and benchmarks
// reach the same functions.
//
//   new Keyring()                      an empty ring (no encryption), copy-on-write inside
//   keyring.add(key: Buffer) -> id     id = 8 hex digits; the first key becomes primary
//   keyring.use(id | key)  keyring.remove(id | key)  keyring.list() -> [{ id, bits, primary }]
//   keyring.size
//   keyId(key: Buffer) -> id
//   seal(packet, keyring | null, clusterName) -> Buffer              (TypeError if not a packet)
//   open(bytes, keyring | null, clusterName) -> { ok: true, packet } | { ok: false, reason }
//   sealFrame(frame, ...) / openFrame(frame, ...)                    the same for TCP frames
//   overhead(keyring | null, clusterName) -> bytes seal adds to a packet
//   reasons -> every reason open can give
//   benchmark({ packetBytes, keyBytes, iterations }) -> { sealNsPerPacket, openNsPerPacket,
//     badKeyNsPerPacket, wrongClusterNsPerPacket, tamperedNsPerPacket, failures, ... }
//
// Keyring errors are Errors whose `code` is ERR_KEYRING_<REASON> and whose message names the
// key by id at most: key bytes never appear in an error.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "addon/bindings.h"
#include "wire/envelope.h"
#include "wire/keyring.h"

namespace constellation::addon {

namespace {

namespace w = constellation::wire;

// Marks objects made by this file's Keyring constructor, so a foreign object (another
// ObjectWrap, a plain object) is refused instead of unwrapped as the wrong type.
constexpr napi_type_tag kKeyringTag = {0x636f6e7374656c6cULL, 0x6b657972696e6701ULL};

[[noreturn]] void type_error(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

std::span<const uint8_t> to_bytes(Napi::Value value, const char* field) {
  if (!value.IsBuffer()) type_error(value.Env(), std::string(field) + " must be a Buffer");
  auto buffer = value.As<Napi::Buffer<uint8_t>>();
  return {buffer.Data(), buffer.Length()};
}

Napi::Buffer<uint8_t> to_buffer(Napi::Env env, const std::vector<uint8_t>& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

[[noreturn]] void keyring_error(Napi::Env env, w::KeyringError error, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  std::string code = "ERR_KEYRING_";
  for (const char* c = w::keyring_error_name(error); *c != '\0'; ++c) {
    code += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
  }
  e.Set("code", Napi::String::New(env, code));
  throw e;
}

w::ClusterLabel to_cluster(Napi::Value value) {
  if (!value.IsString()) type_error(value.Env(), "clusterName must be a string");
  const std::string name = value.As<Napi::String>().Utf8Value();
  if (name.size() > w::kMaxClusterNameBytes) {
    type_error(value.Env(), "clusterName must be 0..255 bytes");
  }
  return w::ClusterLabel(name);
}

class KeyringWrap : public Napi::ObjectWrap<KeyringWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Keyring",
                       {
                           InstanceMethod<&KeyringWrap::Add>("add"),
                           InstanceMethod<&KeyringWrap::Use>("use"),
                           InstanceMethod<&KeyringWrap::Remove>("remove"),
                           InstanceMethod<&KeyringWrap::List>("list"),
                           InstanceAccessor<&KeyringWrap::Size>("size"),
                       });
  }

  explicit KeyringWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KeyringWrap>(info) {
    info.This().As<Napi::Object>().TypeTag(&kKeyringTag);
  }

  // The snapshot seal/open use; null for an argument that is null or undefined.
  static std::shared_ptr<const w::Keyring> snapshot_of(Napi::Value value) {
    if (value.IsNull() || value.IsUndefined()) return nullptr;
    if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&kKeyringTag)) {
      type_error(value.Env(), "keyring must be a Keyring or null");
    }
    return Unwrap(value.As<Napi::Object>())->keys_.snapshot();
  }

 private:
  // A key is named by its id (8 hex digits) or given as the key itself.
  static w::KeyId id_argument(Napi::Value value) {
    if (value.IsBuffer()) {
      const auto key = to_bytes(value, "key");
      if (!w::Keyring::valid_size(key.size())) {
        keyring_error(value.Env(), w::KeyringError::kBadLength, "key must be 16, 24 or 32 bytes");
      }
      return w::Keyring::id_of(key);
    }
    if (value.IsString()) {
      const std::string text = value.As<Napi::String>().Utf8Value();
      if (text.size() == 8 && std::all_of(text.begin(), text.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0;
          })) {
        return static_cast<w::KeyId>(std::stoul(text, nullptr, 16));
      }
    }
    type_error(value.Env(), "key must be a key id (8 hex digits) or a key Buffer");
  }

  Napi::Value Add(const Napi::CallbackInfo& info) {
    const auto key = to_bytes(info[0], "key");
    w::KeyId id = 0;
    const w::KeyringError error =
        keys_.update([&](w::Keyring& ring) { return ring.add(key, &id); });
    switch (error) {
      case w::KeyringError::kNone:
        break;
      case w::KeyringError::kBadLength:
        keyring_error(info.Env(), error, "key must be 16, 24 or 32 bytes");
      case w::KeyringError::kExists:
        keyring_error(info.Env(), error,
                      "key " + w::Keyring::id_text(id) + " is already in the ring");
      case w::KeyringError::kFull:
        keyring_error(info.Env(), error, "the keyring already holds 16 keys");
      default:
        keyring_error(info.Env(), error, "key could not be added");
    }
    return Napi::String::New(info.Env(), w::Keyring::id_text(id));
  }

  Napi::Value Use(const Napi::CallbackInfo& info) {
    const w::KeyId id = id_argument(info[0]);
    const w::KeyringError error = keys_.update([&](w::Keyring& ring) { return ring.use(id); });
    if (error != w::KeyringError::kNone) {
      keyring_error(info.Env(), error, "no key " + w::Keyring::id_text(id) + " in the ring");
    }
    return info.Env().Undefined();
  }

  Napi::Value Remove(const Napi::CallbackInfo& info) {
    const w::KeyId id = id_argument(info[0]);
    const w::KeyringError error = keys_.update([&](w::Keyring& ring) { return ring.remove(id); });
    if (error == w::KeyringError::kPrimary) {
      keyring_error(info.Env(), error,
                    "key " + w::Keyring::id_text(id) +
                        " is the primary key; make another key primary before removing it");
    }
    if (error != w::KeyringError::kNone) {
      keyring_error(info.Env(), error, "no key " + w::Keyring::id_text(id) + " in the ring");
    }
    return info.Env().Undefined();
  }

  Napi::Value List(const Napi::CallbackInfo& info) {
    const auto keys = keys_.snapshot()->list();
    Napi::Array out = Napi::Array::New(info.Env(), keys.size());
    for (uint32_t i = 0; i < keys.size(); ++i) {
      Napi::Object entry = Napi::Object::New(info.Env());
      entry.Set("id", w::Keyring::id_text(keys[i].id));
      entry.Set("bits", Napi::Number::New(info.Env(), keys[i].bits));
      entry.Set("primary", Napi::Boolean::New(info.Env(), keys[i].primary));
      out.Set(i, entry);
    }
    return out;
  }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(keys_.snapshot()->size()));
  }

  w::SharedKeyring keys_;
};

Napi::Value KeyId(const Napi::CallbackInfo& info) {
  const auto key = to_bytes(info[0], "key");
  if (!w::Keyring::valid_size(key.size())) {
    keyring_error(info.Env(), w::KeyringError::kBadLength, "key must be 16, 24 or 32 bytes");
  }
  return Napi::String::New(info.Env(), w::Keyring::id_text(w::Keyring::id_of(key)));
}

Napi::Value SealWith(const Napi::CallbackInfo& info, bool frame) {
  const auto bytes = to_bytes(info[0], frame ? "frame" : "packet");
  const auto keys = KeyringWrap::snapshot_of(info[1]);
  const w::ClusterLabel cluster = to_cluster(info[2]);
  std::vector<uint8_t> out;
  const bool ok = frame ? w::seal_frame(bytes, keys.get(), cluster, out)
                        : w::seal(bytes, keys.get(), cluster, out);
  if (!ok) {
    type_error(info.Env(), frame ? "frame must be one frame holding a plain packet"
                                 : "packet must be a plain packet (header and messages)");
  }
  return to_buffer(info.Env(), out);
}

Napi::Value OpenWith(const Napi::CallbackInfo& info, bool frame) {
  const auto bytes = to_bytes(info[0], frame ? "frame" : "bytes");
  const auto keys = KeyringWrap::snapshot_of(info[1]);
  const w::ClusterLabel cluster = to_cluster(info[2]);
  std::vector<uint8_t> out;
  const w::OpenError error = frame ? w::open_frame(bytes, keys.get(), cluster, out)
                                   : w::open(bytes, keys.get(), cluster, out);
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("ok", Napi::Boolean::New(info.Env(), error == w::OpenError::kNone));
  if (error == w::OpenError::kNone) {
    result.Set(frame ? "frame" : "packet", to_buffer(info.Env(), out));
  } else {
    result.Set("reason", Napi::String::New(info.Env(), w::open_error_name(error)));
  }
  return result;
}

Napi::Value Seal(const Napi::CallbackInfo& info) { return SealWith(info, false); }
Napi::Value Open(const Napi::CallbackInfo& info) { return OpenWith(info, false); }
Napi::Value SealFrame(const Napi::CallbackInfo& info) { return SealWith(info, true); }
Napi::Value OpenFrame(const Napi::CallbackInfo& info) { return OpenWith(info, true); }

Napi::Value Overhead(const Napi::CallbackInfo& info) {
  const auto keys = KeyringWrap::snapshot_of(info[0]);
  const w::ClusterLabel cluster = to_cluster(info[1]);
  return Napi::Number::New(info.Env(), static_cast<double>(w::seal_overhead(keys.get(), cluster)));
}

uint32_t option(Napi::Object options, const char* key, uint32_t fallback, uint32_t max) {
  const Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return fallback;
  const double d = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 1 && d <= max) || static_cast<double>(static_cast<uint32_t>(d)) != d) {
    type_error(options.Env(), std::string(key) + " must be an integer 1.." + std::to_string(max));
  }
  return static_cast<uint32_t>(d);
}

// Seals and opens one packet `iterations` times in a native loop (no JavaScript in the timing).
Napi::Value Benchmark(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object options =
      info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
  const uint32_t packet_bytes = option(options, "packetBytes", 1400, 1 << 20);
  const uint32_t key_bytes = option(options, "keyBytes", 32, 32);
  const uint32_t iterations = option(options, "iterations", 100000, 100000000);
  if (!w::Keyring::valid_size(key_bytes)) type_error(env, "keyBytes must be 16, 24 or 32");
  if (packet_bytes <= w::kHeaderSize) type_error(env, "packetBytes must be above 6");

  w::Keyring ring;
  std::vector<uint8_t> key(key_bytes);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  ring.add(key);
  const w::ClusterLabel cluster("benchmark");
  std::vector<uint8_t> packet(packet_bytes, 0xAB);
  packet[0] = 'R';
  packet[1] = 'A';
  packet[2] = 'D';
  packet[3] = 'S';
  packet[4] = w::kProtocolVersion;
  packet[5] = 0;

  std::vector<uint8_t> sealed;
  std::vector<uint8_t> opened;
  using Clock = std::chrono::steady_clock;
  const auto seal_start = Clock::now();
  for (uint32_t i = 0; i < iterations; ++i) w::seal(packet, &ring, cluster, sealed);
  const auto seal_end = Clock::now();
  size_t failures = 0;
  for (uint32_t i = 0; i < iterations; ++i) {
    failures += w::open(sealed, &ring, cluster, opened) != w::OpenError::kNone;
  }
  const auto open_end = Clock::now();
  const auto ns = [](auto d) { return std::chrono::duration<double, std::nano>(d).count(); };
  // What refusing costs: another cluster and an unknown key are refused before any
  // decryption; a changed byte costs the whole decryption.
  w::Keyring other_ring;
  key[0] ^= 1;
  other_ring.add(key);
  const w::ClusterLabel other_cluster("another");
  std::vector<uint8_t> tampered = sealed;
  tampered.back() ^= 1;
  const auto refusal_ns = [&](const std::vector<uint8_t>& bytes, const w::Keyring& ring,
                              const w::ClusterLabel& label) {
    const auto start = Clock::now();
    for (uint32_t i = 0; i < iterations; ++i) {
      failures += w::open(bytes, &ring, label, opened) == w::OpenError::kNone;
    }
    return ns(Clock::now() - start) / iterations;
  };
  const double bad_key_ns = refusal_ns(sealed, other_ring, cluster);
  const double wrong_cluster_ns = refusal_ns(sealed, ring, other_cluster);
  const double tampered_ns = refusal_ns(tampered, ring, cluster);

  Napi::Object result = Napi::Object::New(env);
  result.Set("sealNsPerPacket", ns(seal_end - seal_start) / iterations);
  result.Set("openNsPerPacket", ns(open_end - seal_end) / iterations);
  result.Set("badKeyNsPerPacket", bad_key_ns);
  result.Set("wrongClusterNsPerPacket", wrong_cluster_ns);
  result.Set("tamperedNsPerPacket", tampered_ns);
  result.Set("sealedBytes", static_cast<double>(sealed.size()));
  result.Set("failures", static_cast<double>(failures));
  result.Set("iterations", static_cast<double>(iterations));
  return result;
}

}  // namespace

void RegisterEnvelope(Napi::Env env, Napi::Object exports) {
  Napi::Object envelope = Napi::Object::New(env);
  envelope.Set("Keyring", KeyringWrap::Define(env));
  envelope.Set("keyId", Napi::Function::New(env, KeyId));
  envelope.Set("seal", Napi::Function::New(env, Seal));
  envelope.Set("open", Napi::Function::New(env, Open));
  envelope.Set("sealFrame", Napi::Function::New(env, SealFrame));
  envelope.Set("openFrame", Napi::Function::New(env, OpenFrame));
  envelope.Set("overhead", Napi::Function::New(env, Overhead));
  Napi::Array reasons = Napi::Array::New(env);
  for (size_t i = 1; i < w::kOpenErrorCount; ++i) {
    reasons.Set(static_cast<uint32_t>(i - 1), w::open_error_name(static_cast<w::OpenError>(i)));
  }
  envelope.Set("reasons", reasons);
  envelope.Set("benchmark", Napi::Function::New(env, Benchmark));
  exports.Set("envelope", envelope);
}

}  // namespace constellation::addon
