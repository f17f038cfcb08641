// The addon's testing export (sag_testing.h): kept off NativeDataplane so the product object has no
// test doors. Only src/testing (the sag/testing entry point) calls it.
#pragma once
#include <napi.h>

namespace sagaddon {
Napi::Object DefineTesting(Napi::Env env);
}  // namespace sagaddon
