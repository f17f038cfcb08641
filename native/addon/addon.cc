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

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  napi_add_env_cleanup_hook(env, Cleanup, data);
  data->dataplane_ctor = Napi::Persistent(NativeDataplane::Define(env));
  exports.Set("NativeDataplane", data->dataplane_ctor.Value());
  Napi::Array names = Napi::Array::New(env, SAG_DROP_REASON_COUNT);
  for (uint32_t i = 0; i < SAG_DROP_REASON_COUNT; ++i) names.Set(i, sag_drop_reason_name(int(i)));
  exports.Set("dropReasons", names);
  exports.Set("maxControlMessage", Napi::Number::New(env, SAG_MAX_CONTROL_MESSAGE));
  exports.Set("testing", DefineTesting(env));  // sag_testing.h, for sag/testing only
  return exports;
}

}  // namespace sagaddon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return sagaddon::Init(env, exports);
}

NODE_API_MODULE(sag, InitModule)
