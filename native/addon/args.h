// JS argument and status conversions shared by the addon's files: what keeps native code safe
// (types, integer ranges, lengths); meaning is validated in TypeScript first.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "sag/sag.h"

namespace sagaddon {

inline void ThrowStatus(const Napi::Env& env, int rc) {
  Napi::Error err = Napi::Error::New(env, sag_last_error());
  err.Set("status", Napi::Number::New(env, rc));
  throw err;
}
inline void Check(const Napi::Env& env, int rc) {
  if (rc < 0) ThrowStatus(env, rc);
}
// Integers are checked here, not only in src/dataplane/: a number the C types cannot hold exactly
// (negative, fractional, NaN, too large) would otherwise be wrapped or truncated into another,
// valid-looking value. TypeError for the wrong type, RangeError for a value out of range.
inline std::string ArgName(size_t i, const char* name) {
  return name ? std::string(name) : "argument " + std::to_string(i);
}
inline uint64_t Integer(const Napi::Env& env, const Napi::Value& v, const std::string& name, uint64_t max) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, name + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= double(max) && std::trunc(d) == d))  // NaN fails every comparison
    throw Napi::RangeError::New(
        env, name + " must be an integer in 0.." + std::to_string(max) + ", not " + v.ToString().Utf8Value());
  return uint64_t(d);
}
inline uint32_t U32(const Napi::CallbackInfo& info, size_t i, const char* name = nullptr) {
  return uint32_t(Integer(info.Env(), info[i], ArgName(i, name), UINT32_MAX));
}
inline uint16_t Port(const Napi::CallbackInfo& info, size_t i) {
  return uint16_t(Integer(info.Env(), info[i], "port", UINT16_MAX));
}
inline uint64_t U64(const Napi::CallbackInfo& info, size_t i, const char* name = nullptr) {
  if (!info[i].IsBigInt()) throw Napi::TypeError::New(info.Env(), ArgName(i, name) + " must be a bigint");
  bool lossless = false;
  uint64_t v = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless)  // negative, or 2^64 and beyond
    throw Napi::RangeError::New(
        info.Env(), ArgName(i, name) + " must be in 0..2^64-1, not " + info[i].ToString().Utf8Value());
  return v;
}
inline Napi::Buffer<uint8_t> Bytes(const Napi::CallbackInfo& info, size_t i, size_t exact = 0) {
  if (!info[i].IsBuffer())
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a Buffer");
  auto b = info[i].As<Napi::Buffer<uint8_t>>();
  if (exact && b.Length() != exact)
    throw Napi::RangeError::New(
        info.Env(), "argument " + std::to_string(i) + " must be " + std::to_string(exact) + " bytes");
  return b;
}

}  // namespace sagaddon
