// Module init. Per-load state lives in the instance data, never in statics, so the addon loads in
// worker_threads and more than once per process. A cleanup hook closes every live dataplane
// before its environment is torn down.
#include <napi.h>

#include <set>

#include "addon_data.h"
#include "dataplane_wrap.h"
#include "testing.h"

namespace sagaddon {

static void Cleanup(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  // Destroy() unregisters itself; copy first.
  std::set<NativeDataplane*> live = data->live;
  for (NativeDataplane* dp : live) dp->Destroy();
}

// The facts of sag.h this build was compiled with: drop reason names by index and every integer
// limit, under its name less SAG_. test/unit/native-facts.test.ts compares them with the generated
// TypeScript constants, so a limit added to the header but not here fails there.
static Napi::Object Limits(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
#define SAG_LIMIT_(name) o.Set(#name, Napi::Number::New(env, double(SAG_##name)));
  SAG_LIMIT_(MIN_MTU)
  SAG_LIMIT_(MAX_MTU)
  SAG_LIMIT_(DEFAULT_MTU)
  SAG_LIMIT_(MAX_STAGED_CAPACITY)
  SAG_LIMIT_(MAX_EVENT_CAPACITY)
  SAG_LIMIT_(MAX_BATCH_SIZE)
  SAG_LIMIT_(MAX_TUN_QUEUES)
  SAG_LIMIT_(MAX_RECEIVE_WORKERS)
  SAG_LIMIT_(MAX_RATE)
  SAG_LIMIT_(MAX_BURST)
  SAG_LIMIT_(MAX_CONTROL_MESSAGE)
  SAG_LIMIT_(EVENT_RESERVED_PERCENT)
  SAG_LIMIT_(PROBE_REPLY_RATE)
  SAG_LIMIT_(PROBE_REPLY_BURST)
  SAG_LIMIT_(MAX_PATHS)
  SAG_LIMIT_(MAX_CLASSES)
  SAG_LIMIT_(MAX_CLASS_PREFIXES)
#undef SAG_LIMIT_
  return o;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  napi_add_env_cleanup_hook(env, Cleanup, data);
  data->dataplane_ctor = Napi::Persistent(NativeDataplane::Define(env));
  exports.Set("NativeDataplane", data->dataplane_ctor.Value());
  Napi::Array names = Napi::Array::New(env, SAG_DROP_REASON_COUNT);
  for (uint32_t i = 0; i < SAG_DROP_REASON_COUNT; ++i) names.Set(i, sag_drop_reason_name(int(i)));
  exports.Set("dropReasons", names);
  exports.Set("limits", Limits(env));
  exports.Set("testing", DefineTesting(env));  // sag_testing.h, for sag/testing only
  return exports;
}

}  // namespace sagaddon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return sagaddon::Init(env, exports);
}

NODE_API_MODULE(sag, InitModule)
