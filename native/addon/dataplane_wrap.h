// NativeDataplane: a thin ObjectWrap over the C API handle. Argument checking here is only what
// keeps native code safe (types, buffer lengths); the TypeScript Dataplane validates meaning first.
#pragma once
#include <napi.h>

#include "sag/sag.h"

namespace sagaddon {

class NativeDataplane : public Napi::ObjectWrap<NativeDataplane> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeDataplane(const Napi::CallbackInfo& info);
  ~NativeDataplane() override;

  // Called by the environment cleanup hook: releases the native handle before the env goes.
  void Destroy();
  // The open handle of a NativeDataplane passed from JS (the testing export takes one); throws a
  // TypeError for any other value and an Error if it is closed.
  static sag_dataplane* HandleOf(const Napi::Value& value);

 private:
  static void Notify(void* ctx);  // from a worker thread

  Napi::Value OpenTun(const Napi::CallbackInfo& info);
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value AddUplink(const Napi::CallbackInfo& info);
  Napi::Value RemoveUplink(const Napi::CallbackInfo& info);
  Napi::Value UplinkCounters(const Napi::CallbackInfo& info);
  Napi::Value AddPeer(const Napi::CallbackInfo& info);
  Napi::Value RemovePeer(const Napi::CallbackInfo& info);
  Napi::Value SetEndpoint(const Napi::CallbackInfo& info);
  Napi::Value SetAllowedIps(const Napi::CallbackInfo& info);
  Napi::Value PeerInfo(const Napi::CallbackInfo& info);
  Napi::Value PeerAllowedIps(const Napi::CallbackInfo& info);
  Napi::Value InstallKeypair(const Napi::CallbackInfo& info);
  Napi::Value RetireKeypair(const Napi::CallbackInfo& info);
  Napi::Value ExpireKeypair(const Napi::CallbackInfo& info);
  Napi::Value ExpireOlderThan(const Napi::CallbackInfo& info);
  Napi::Value SendControl(const Napi::CallbackInfo& info);
  Napi::Value SendKeepalive(const Napi::CallbackInfo& info);
  Napi::Value DropStaged(const Napi::CallbackInfo& info);
  Napi::Value SetSelection(const Napi::CallbackInfo& info);  // multipath
  Napi::Value SendProbe(const Napi::CallbackInfo& info);     // multipath
  Napi::Value PollEvents(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value SetEventHandler(const Napi::CallbackInfo& info);
  Napi::Value AddDomainTun(const Napi::CallbackInfo& info);
  Napi::Value RemoveDomain(const Napi::CallbackInfo& info);
  Napi::Value SetPeerDomain(const Napi::CallbackInfo& info);
  Napi::Value SetRateLimit(const Napi::CallbackInfo& info);

  sag_dataplane* Handle(const Napi::Env& env);  // throws if closed

  sag_dataplane* dp_ = nullptr;
  Napi::ThreadSafeFunction tsfn_;
  bool has_tsfn_ = false;
  bool running_ = false;
};

}  // namespace sagaddon
