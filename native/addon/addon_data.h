#pragma once
#include <napi.h>

#include <set>

namespace sagaddon {
class NativeDataplane;

// One per environment (main thread or worker): the constructor and the live handles to clean up.
struct AddonData {
  Napi::FunctionReference dataplane_ctor;
  std::set<NativeDataplane*> live;
};
}  // namespace sagaddon
