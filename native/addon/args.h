// JS argument and status conversions shared by the addon's files: only what keeps native code safe
// (types, lengths); meaning is validated in TypeScript first.
#pragma once
#include <napi.h>

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
inline uint32_t U32(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}
inline uint64_t U64(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsBigInt())
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a bigint");
  bool lossless = false;
  uint64_t v = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless)
    throw Napi::RangeError::New(info.Env(), "argument " + std::to_string(i) + " out of uint64 range");
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
