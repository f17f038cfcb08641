#include "testing.h"

#include "args.h"
#include "dataplane_wrap.h"
#include "sag/sag_testing.h"

namespace sagaddon {

namespace {

// Each takes the NativeDataplane first; domain 0 is the dataplane's own TUN.
Napi::Value OpenMemoryTun(const Napi::CallbackInfo& info) {
  Check(info.Env(), sag_dp_open_memory_tun(NativeDataplane::HandleOf(info[0])));
  return info.Env().Undefined();
}

Napi::Value AddMemoryDomain(const Napi::CallbackInfo& info) {
  uint32_t id = 0;
  Check(info.Env(), sag_dp_add_memory_domain(NativeDataplane::HandleOf(info[0]), &id));
  return Napi::Number::New(info.Env(), id);
}

// (dataplane, packet, domain) -> false when the TUN's inbound queue is full.
Napi::Value MemoryTunInject(const Napi::CallbackInfo& info) {
  sag_dataplane* dp = NativeDataplane::HandleOf(info[0]);
  auto b = Bytes(info, 1);
  int rc = sag_dp_domain_memory_tun_inject(dp, U32(info, 2), b.Data(), b.Length());
  if (rc == SAG_EAGAIN) return Napi::Boolean::New(info.Env(), false);
  Check(info.Env(), rc);
  return Napi::Boolean::New(info.Env(), true);
}

// (dataplane, domain) -> the next packet the dataplane wrote, or null.
Napi::Value MemoryTunTake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sag_dataplane* dp = NativeDataplane::HandleOf(info[0]);
  uint8_t buf[65536];
  size_t len = 0;
  int rc = sag_dp_domain_memory_tun_take(dp, U32(info, 1), buf, sizeof buf, &len);
  if (rc == SAG_EAGAIN) return env.Null();
  Check(env, rc);
  return Napi::Buffer<uint8_t>::Copy(env, buf, len);
}

}  // namespace

Napi::Object DefineTesting(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("openMemoryTun", Napi::Function::New<OpenMemoryTun>(env, "openMemoryTun"));
  o.Set("addMemoryDomain", Napi::Function::New<AddMemoryDomain>(env, "addMemoryDomain"));
  o.Set("memoryTunInject", Napi::Function::New<MemoryTunInject>(env, "memoryTunInject"));
  o.Set("memoryTunTake", Napi::Function::New<MemoryTunTake>(env, "memoryTunTake"));
  return o;
}

}  // namespace sagaddon
