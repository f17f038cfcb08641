// What the C ABI's files share (capi.cc, capi_testing.cc): the handle behind sag_dataplane* and the
// guard that keeps exceptions inside and leaves the reason in sag_last_error().
#pragma once
#include <exception>
#include <new>
#include <string>

#include "dataplane.h"
#include "sag/sag.h"

struct sag_dataplane {
  sag::Dataplane impl;
  explicit sag_dataplane(const sag::DataplaneConfig& c) : impl(c) {}
};

namespace sag::capi {

// Sets sag_last_error() for this thread and returns code.
int fail(int code, std::string message);

inline int report(const Status& s) {
  return s.ok() ? int(SAG_OK) : fail(s.code, s.message);
}

template <class F>
int guarded(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return fail(SAG_ENOMEM, "out of memory");
  } catch (const std::exception& e) {
    return fail(SAG_EINTERNAL, e.what());
  } catch (...) {
    return fail(SAG_EINTERNAL, "unknown internal error");
  }
}

}  // namespace sag::capi
