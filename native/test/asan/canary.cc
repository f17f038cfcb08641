// A Node addon with one deliberate heap overflow, built only by native/test/addon-asan.sh: the
// script loads it under the same preload and options as the real addon and requires ASan to
// abort the process. This proves the sanitizer runtime is active in node, so a clean run of the
// real tests means something. It is never built into sag.
#include <node_api.h>

#include <cstring>

static napi_value Overflow(napi_env env, napi_callback_info) {
  char* p = new char[8];
  volatile size_t n = 9;  // volatile: the compiler must not see the overflow statically
  std::memset(p, 0x41, n);
  delete[] p;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "overflow", NAPI_AUTO_LENGTH, Overflow, nullptr, &fn);
  napi_set_named_property(env, exports, "overflow", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
