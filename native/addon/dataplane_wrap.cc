#include "dataplane_wrap.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "addon_data.h"
#include "args.h"

namespace sagaddon {

namespace {

// Parses an IPv4 or IPv6 literal into family + bytes.
void ParseAddress(const Napi::Env& env, const std::string& s, uint8_t* family, uint8_t addr[16]) {
  std::memset(addr, 0, 16);
  if (inet_pton(AF_INET, s.c_str(), addr) == 1)
    *family = 4;
  else if (inet_pton(AF_INET6, s.c_str(), addr) == 1)
    *family = 6;
  else
    throw Napi::TypeError::New(env, "not an IP address: " + s);
}
// {address, cidr} into a sag_prefix; the core checks the length against the family.
sag_prefix Prefix(const Napi::Env& env, const Napi::Value& v) {
  const char* shape = "prefix must be {address, cidr}";
  if (!v.IsObject()) throw Napi::TypeError::New(env, shape);
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value a = o.Get("address"), c = o.Get("cidr");
  if (!a.IsString() || !c.IsNumber()) throw Napi::TypeError::New(env, shape);
  uint32_t cidr = uint32_t(Integer(env, c, "prefix length", UINT8_MAX));  // the core checks the family's
  sag_prefix p{};
  ParseAddress(env, a.As<Napi::String>(), &p.family, p.addr);
  p.cidr = uint8_t(cidr);
  return p;
}
sag_endpoint Endpoint(const Napi::CallbackInfo& info, size_t addr_i, size_t port_i) {
  if (!info[addr_i].IsString()) throw Napi::TypeError::New(info.Env(), "address must be a string");
  sag_endpoint ep{};
  ParseAddress(info.Env(), info[addr_i].As<Napi::String>(), &ep.family, ep.addr);
  ep.port = Port(info, port_i);
  return ep;
}
std::string AddressString(uint8_t family, const uint8_t* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
  return buf;
}
Napi::Object EndpointObject(const Napi::Env& env, const sag_endpoint& ep) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("address", AddressString(ep.family, ep.addr));
  o.Set("port", Napi::Number::New(env, ep.port));
  return o;
}
Napi::Object CountersObject(const Napi::Env& env, const sag_counters& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("rxPackets", Napi::Number::New(env, double(c.rx_packets)));
  o.Set("rxBytes", Napi::Number::New(env, double(c.rx_bytes)));
  o.Set("txPackets", Napi::Number::New(env, double(c.tx_packets)));
  o.Set("txBytes", Napi::Number::New(env, double(c.tx_bytes)));
  o.Set("rxKeepalives", Napi::Number::New(env, double(c.rx_keepalives)));
  o.Set("txKeepalives", Napi::Number::New(env, double(c.tx_keepalives)));
  Napi::Object drops = Napi::Object::New(env);
  for (int r = 0; r < SAG_DROP_REASON_COUNT; ++r)
    drops.Set(sag_drop_reason_name(r), Napi::Number::New(env, double(c.drops[r])));
  o.Set("drops", drops);
  return o;
}

}  // namespace

Napi::Function NativeDataplane::Define(Napi::Env env) {
  return DefineClass(env, "NativeDataplane",
                     {
                         InstanceMethod<&NativeDataplane::OpenTun>("openTun"),
                         InstanceMethod<&NativeDataplane::Start>("start"),
                         InstanceMethod<&NativeDataplane::Stop>("stop"),
                         InstanceMethod<&NativeDataplane::Close>("close"),
                         InstanceMethod<&NativeDataplane::AddUplink>("addUplink"),
                         InstanceMethod<&NativeDataplane::RemoveUplink>("removeUplink"),
                         InstanceMethod<&NativeDataplane::UplinkCounters>("uplinkCounters"),
                         InstanceMethod<&NativeDataplane::AddPeer>("addPeer"),
                         InstanceMethod<&NativeDataplane::RemovePeer>("removePeer"),
                         InstanceMethod<&NativeDataplane::SetEndpoint>("setEndpoint"),
                         InstanceMethod<&NativeDataplane::SetAllowedIps>("setAllowedIps"),
                         InstanceMethod<&NativeDataplane::PeerInfo>("peerInfo"),
                         InstanceMethod<&NativeDataplane::PeerAllowedIps>("peerAllowedIps"),
                         InstanceMethod<&NativeDataplane::InstallKeypair>("installKeypair"),
                         InstanceMethod<&NativeDataplane::RetireKeypair>("retireKeypair"),
                         InstanceMethod<&NativeDataplane::ExpireKeypair>("expireKeypair"),
                         InstanceMethod<&NativeDataplane::ExpireOlderThan>("expireOlderThan"),
                         InstanceMethod<&NativeDataplane::SendControl>("sendControl"),
                         InstanceMethod<&NativeDataplane::SendKeepalive>("sendKeepalive"),
                         InstanceMethod<&NativeDataplane::DropStaged>("dropStaged"),
                         InstanceMethod<&NativeDataplane::SetSelection>("setSelection"),
                         InstanceMethod<&NativeDataplane::SendProbe>("sendProbe"),
                         InstanceMethod<&NativeDataplane::PollEvents>("pollEvents"),
                         InstanceMethod<&NativeDataplane::Counters>("counters"),
                         InstanceMethod<&NativeDataplane::SetEventHandler>("setEventHandler"),
                         InstanceMethod<&NativeDataplane::AddDomainTun>("addDomainTun"),
                         InstanceMethod<&NativeDataplane::RemoveDomain>("removeDomain"),
                         InstanceMethod<&NativeDataplane::SetPeerDomain>("setPeerDomain"),
                         InstanceMethod<&NativeDataplane::SetRateLimit>("setRateLimit"),
                     });
}

NativeDataplane::NativeDataplane(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeDataplane>(info) {
  Napi::Env env = info.Env();
  sag_config cfg{};
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    auto get = [&](const char* k) {  // absent: 0, the core's default
      Napi::Value v = o.Get(k);
      return v.IsUndefined() ? 0u : uint32_t(Integer(env, v, std::string("options.") + k, UINT32_MAX));
    };
    cfg.mtu = get("mtu");
    cfg.staged_capacity = get("stagedCapacity");
    cfg.event_capacity = get("eventCapacity");
    cfg.batch_size = get("batchSize");
    cfg.tun_queues = get("tunQueues");
    cfg.receive_workers = get("receiveWorkers");
  }
  Check(env, sag_dp_create(&cfg, &dp_));
  env.GetInstanceData<AddonData>()->live.insert(this);
}

NativeDataplane::~NativeDataplane() {
  Destroy();
}

void NativeDataplane::Destroy() {
  if (!dp_) return;
  sag_dp_set_notify(dp_, nullptr, nullptr);  // no worker calls into the tsfn after this
  sag_dp_destroy(dp_);
  dp_ = nullptr;
  if (has_tsfn_) {
    tsfn_.Release();
    has_tsfn_ = false;
  }
  if (AddonData* data = Env().GetInstanceData<AddonData>()) data->live.erase(this);
}

sag_dataplane* NativeDataplane::Handle(const Napi::Env& env) {
  if (!dp_) throw Napi::Error::New(env, "the dataplane is closed");
  return dp_;
}

sag_dataplane* NativeDataplane::HandleOf(const Napi::Value& value) {
  Napi::Env env = value.Env();
  AddonData* data = env.GetInstanceData<AddonData>();
  if (!data || !value.IsObject() || !value.As<Napi::Object>().InstanceOf(data->dataplane_ctor.Value()))
    throw Napi::TypeError::New(env, "argument 0 must be a NativeDataplane");
  return Unwrap(value.As<Napi::Object>())->Handle(env);  // Unwrap throws for a bare prototype
}

void NativeDataplane::Notify(void* ctx) {
  // Worker thread: only queue a wake-up; JS drains with pollEvents().
  static_cast<NativeDataplane*>(ctx)->tsfn_.NonBlockingCall();
}

Napi::Value NativeDataplane::SetEventHandler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sag_dataplane* dp = Handle(env);
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "handler must be a function");
  sag_dp_set_notify(dp, nullptr, nullptr);
  if (has_tsfn_) tsfn_.Release();
  tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "sag-events", 0, 1);
  has_tsfn_ = true;
  if (!running_) tsfn_.Unref(env);  // only a running dataplane keeps the process alive
  sag_dp_set_notify(dp, &NativeDataplane::Notify, this);
  return env.Undefined();
}

Napi::Value NativeDataplane::OpenTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "name must be a string");
  std::string name = info[0].As<Napi::String>();
  char actual[64] = {};
  Check(env, sag_dp_open_tun(Handle(env), name.c_str(), actual, sizeof actual));
  return Napi::String::New(env, actual);
}

Napi::Value NativeDataplane::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Check(env, sag_dp_start(Handle(env)));
  if (!running_ && has_tsfn_) tsfn_.Ref(env);
  running_ = true;
  return env.Undefined();
}

Napi::Value NativeDataplane::Stop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Check(env, sag_dp_stop(Handle(env)));
  if (running_ && has_tsfn_) tsfn_.Unref(env);
  running_ = false;
  return env.Undefined();
}

Napi::Value NativeDataplane::Close(const Napi::CallbackInfo& info) {
  Destroy();
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::AddUplink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sag_uplink_config cfg{};
  cfg.bind = Endpoint(info, 0, 1);
  if (info[2].IsString()) {
    std::string dev = info[2].As<Napi::String>();
    if (dev.size() >= sizeof cfg.device) throw Napi::RangeError::New(env, "device name too long");
    std::memcpy(cfg.device, dev.data(), dev.size());
  }
  cfg.fwmark = info[3].IsUndefined() ? 0 : U32(info, 3, "fwmark");
  uint32_t id = 0;
  sag_endpoint bound{};
  Check(env, sag_dp_add_uplink(Handle(env), &cfg, &id, &bound));
  Napi::Object o = EndpointObject(env, bound);
  o.Set("id", Napi::Number::New(env, id));
  return o;
}

Napi::Value NativeDataplane::RemoveUplink(const Napi::CallbackInfo& info) {
  Check(info.Env(), sag_dp_remove_uplink(Handle(info.Env()), U32(info, 0, "uplinkId")));
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::UplinkCounters(const Napi::CallbackInfo& info) {
  sag_counters c{};
  Check(info.Env(), sag_dp_uplink_counters(Handle(info.Env()), U32(info, 0, "uplinkId"), &c));
  return CountersObject(info.Env(), c);
}

Napi::Value NativeDataplane::AddPeer(const Napi::CallbackInfo& info) {
  auto key = Bytes(info, 0, 32);
  uint32_t id = 0;
  Check(info.Env(), sag_dp_add_peer(Handle(info.Env()), key.Data(), &id));
  return Napi::Number::New(info.Env(), id);
}

Napi::Value NativeDataplane::RemovePeer(const Napi::CallbackInfo& info) {
  Check(info.Env(), sag_dp_remove_peer(Handle(info.Env()), U32(info, 0, "peerId")));
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::SetEndpoint(const Napi::CallbackInfo& info) {
  sag_endpoint ep = Endpoint(info, 1, 2);
  Check(info.Env(),
        sag_dp_set_endpoint(Handle(info.Env()), U32(info, 0, "peerId"), &ep, U32(info, 3, "uplinkId")));
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::SetAllowedIps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = U32(info, 0, "peerId");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "prefixes must be an array");
  Napi::Array arr = info[1].As<Napi::Array>();
  std::vector<sag_prefix> prefixes(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) prefixes[i] = Prefix(env, arr.Get(i));
  Check(env, sag_dp_set_allowed_ips(Handle(env), id, prefixes.data(), prefixes.size()));
  return env.Undefined();
}

Napi::Value NativeDataplane::PeerInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sag_peer_info p{};
  Check(env, sag_dp_peer_info(Handle(env), U32(info, 0, "peerId"), &p));
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, p.id));
  o.Set("publicKey", Napi::Buffer<uint8_t>::Copy(env, p.public_key, 32));
  o.Set("endpoint", p.has_endpoint ? Napi::Value(EndpointObject(env, p.endpoint)) : env.Null());
  o.Set("uplinkId", Napi::Number::New(env, p.uplink_id));
  o.Set("currentIndex", Napi::Number::New(env, p.current_index));
  o.Set("previousIndex", Napi::Number::New(env, p.previous_index));
  o.Set("nextIndex", Napi::Number::New(env, p.next_index));
  o.Set("stagedPackets", Napi::Number::New(env, p.staged_packets));
  o.Set("counters", CountersObject(env, p.counters));
  return o;
}

// [{address, cidr}] in the core's order (IPv4 first, ascending): the one copy lives in the trie.
Napi::Value NativeDataplane::PeerAllowedIps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = U32(info, 0, "peerId");
  std::vector<sag_prefix> buf(16);
  int n = sag_dp_peer_allowed_ips(Handle(env), id, buf.data(), buf.size());
  while (n > int(buf.size())) {  // the first buffer was short: the call said how many there are
    buf.resize(size_t(n));
    n = sag_dp_peer_allowed_ips(Handle(env), id, buf.data(), buf.size());
  }
  Check(env, n);
  Napi::Array out = Napi::Array::New(env, size_t(n));
  for (int i = 0; i < n; ++i) {
    const sag_prefix& p = buf[size_t(i)];
    Napi::Object o = Napi::Object::New(env);
    o.Set("address", AddressString(p.family, p.addr));
    o.Set("cidr", Napi::Number::New(env, p.cidr));
    out.Set(uint32_t(i), o);
  }
  return out;
}

Napi::Value NativeDataplane::InstallKeypair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t peer = U32(info, 0, "peerId");
  sag_keypair_config kp{};
  kp.local_index = U32(info, 1, "localIndex");
  kp.remote_index = U32(info, 2, "remoteIndex");
  std::memcpy(kp.send_key, Bytes(info, 3, 32).Data(), 32);
  std::memcpy(kp.recv_key, Bytes(info, 4, 32).Data(), 32);
  kp.initiator = info[5].ToBoolean() ? 1 : 0;
  int rc = sag_dp_install_keypair(Handle(env), peer, &kp, U64(info, 6, "nowNs"));
  // The keys were copied into the core; wipe our stack copy.
  volatile uint8_t* s = kp.send_key;
  volatile uint8_t* r = kp.recv_key;
  for (int i = 0; i < 32; ++i) s[i] = r[i] = 0;
  Check(env, rc);
  return env.Undefined();
}

Napi::Value NativeDataplane::RetireKeypair(const Napi::CallbackInfo& info) {
  Check(info.Env(), sag_dp_retire_keypair(Handle(info.Env()), U32(info, 0, "localIndex")));
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::ExpireKeypair(const Napi::CallbackInfo& info) {
  Check(info.Env(), sag_dp_expire_keypair(Handle(info.Env()), U32(info, 0, "localIndex")));
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::ExpireOlderThan(const Napi::CallbackInfo& info) {
  int n = sag_dp_expire_older_than(Handle(info.Env()), U64(info, 0, "nowNs"), U64(info, 1, "maxAgeNs"));
  Check(info.Env(), n);
  return Napi::Number::New(info.Env(), n);
}

Napi::Value NativeDataplane::SendControl(const Napi::CallbackInfo& info) {
  sag_endpoint to = Endpoint(info, 1, 2);
  auto data = Bytes(info, 3);
  Check(info.Env(),
        sag_dp_send_control(Handle(info.Env()), U32(info, 0, "uplinkId"), &to, data.Data(), data.Length()));
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::SendKeepalive(const Napi::CallbackInfo& info) {
  Check(info.Env(), sag_dp_send_keepalive(Handle(info.Env()), U32(info, 0, "peerId")));
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::DropStaged(const Napi::CallbackInfo& info) {
  int n = sag_dp_drop_staged(Handle(info.Env()), U32(info, 0, "peerId"));
  Check(info.Env(), n);
  return Napi::Number::New(info.Env(), n);
}

Napi::Value NativeDataplane::PollEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t max = info[0].IsUndefined() ? 256 : U32(info, 0, "max");
  Napi::Array out = Napi::Array::New(env);
  if (!dp_) return out;
  static thread_local sag_event ev;
  for (uint32_t n = 0; n < max && sag_dp_poll_event(dp_, &ev) == SAG_OK; ++n) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", Napi::Number::New(env, ev.type));
    o.Set("peerId", Napi::Number::New(env, ev.peer_id));
    o.Set("uplinkId", Napi::Number::New(env, ev.uplink_id));
    o.Set("index", Napi::Number::New(env, ev.index));
    if (ev.type == SAG_EVENT_CONTROL || ev.type == SAG_EVENT_ENDPOINT_CHANGED ||
        ev.type == SAG_EVENT_PROBE_REPLY)
      o.Set("from", EndpointObject(env, ev.from));
    if (ev.type == SAG_EVENT_CONTROL || ev.type == SAG_EVENT_PROBE_REPLY)
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, ev.data, ev.len));
    out.Set(n, o);
  }
  return out;
}

Napi::Value NativeDataplane::Counters(const Napi::CallbackInfo& info) {
  sag_counters c{};
  Check(info.Env(), sag_dp_counters(Handle(info.Env()), &c));
  return CountersObject(info.Env(), c);
}

// ---- Multipath ----------------------------------------------------------------------------------
// setSelection(peerId, null | {paths: [{id, uplinkId, address, port}], classes: [{dscpMask (bigint),
// protocol, srcPorts: [min, max], dstPorts: [min, max], srcPrefixes: [{address, cidr}],
// dstPrefixes: [{address, cidr}], mode, paths: [index], weights: [w]}]}).
// The TypeScript layer validates meaning; the core checks ranges again.

namespace {
uint32_t Field(const Napi::Object& o, const char* k, uint32_t max = UINT32_MAX) {
  return uint32_t(Integer(o.Env(), o.Get(k), k, max));
}
uint32_t Element(const Napi::Array& a, uint32_t i, const char* k, uint32_t max) {
  return uint32_t(Integer(a.Env(), a.Get(i), std::string(k) + "[" + std::to_string(i) + "]", max));
}
Napi::Array ArrayField(const Napi::Object& o, const char* k, uint32_t max) {
  Napi::Value v = o.Get(k);
  if (!v.IsArray() || v.As<Napi::Array>().Length() > max)
    throw Napi::TypeError::New(o.Env(),
                               std::string(k) + " must be an array of at most " + std::to_string(max));
  return v.As<Napi::Array>();
}
void ParseClass(const Napi::Env& env, const Napi::Object& o, sag_traffic_class* c) {
  Napi::Value mask = o.Get("dscpMask");
  if (!mask.IsUndefined()) {
    if (!mask.IsBigInt()) throw Napi::TypeError::New(env, "dscpMask must be a bigint");
    bool lossless = false;
    c->dscp_mask = mask.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(env, "dscpMask must be in 0..2^64-1");
  }
  c->protocol = uint8_t(Field(o, "protocol", UINT8_MAX));
  Napi::Array sp = ArrayField(o, "srcPorts", 2), dp = ArrayField(o, "dstPorts", 2);
  if (sp.Length() == 2) {
    c->src_port_min = uint16_t(Element(sp, 0, "srcPorts", UINT16_MAX));
    c->src_port_max = uint16_t(Element(sp, 1, "srcPorts", UINT16_MAX));
  }
  if (dp.Length() == 2) {
    c->dst_port_min = uint16_t(Element(dp, 0, "dstPorts", UINT16_MAX));
    c->dst_port_max = uint16_t(Element(dp, 1, "dstPorts", UINT16_MAX));
  }
  Napi::Array sa = ArrayField(o, "srcPrefixes", SAG_MAX_CLASS_PREFIXES),
              da = ArrayField(o, "dstPrefixes", SAG_MAX_CLASS_PREFIXES);
  c->src_prefix_count = uint8_t(sa.Length());
  for (uint32_t i = 0; i < sa.Length(); ++i) c->src_prefixes[i] = Prefix(env, sa.Get(i));
  c->dst_prefix_count = uint8_t(da.Length());
  for (uint32_t i = 0; i < da.Length(); ++i) c->dst_prefixes[i] = Prefix(env, da.Get(i));
  c->mode = uint8_t(Field(o, "mode", UINT8_MAX));
  Napi::Array paths = ArrayField(o, "paths", SAG_MAX_PATHS),
              weights = ArrayField(o, "weights", SAG_MAX_PATHS);
  c->path_count = uint8_t(paths.Length());
  for (uint32_t i = 0; i < paths.Length(); ++i) {
    c->path_index[i] = uint8_t(Element(paths, i, "paths", UINT8_MAX));
    c->weight[i] = i < weights.Length() ? Element(weights, i, "weights", UINT32_MAX) : 1;
  }
}
}  // namespace

Napi::Value NativeDataplane::SetSelection(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t peer = U32(info, 0, "peerId");
  if (info[1].IsNull() || info[1].IsUndefined()) {
    Check(env, sag_dp_set_selection(Handle(env), peer, nullptr));
    return env.Undefined();
  }
  if (!info[1].IsObject()) throw Napi::TypeError::New(env, "selection must be an object or null");
  Napi::Object o = info[1].As<Napi::Object>();
  auto sel = std::make_unique<sag_selection>();
  std::memset(sel.get(), 0, sizeof *sel);
  Napi::Array paths = ArrayField(o, "paths", SAG_MAX_PATHS),
              classes = ArrayField(o, "classes", SAG_MAX_CLASSES);
  sel->path_count = paths.Length();
  for (uint32_t i = 0; i < paths.Length(); ++i) {
    if (!paths.Get(i).IsObject()) throw Napi::TypeError::New(env, "path must be an object");
    Napi::Object p = paths.Get(i).As<Napi::Object>();
    sel->paths[i].id = Field(p, "id");
    sel->paths[i].uplink_id = Field(p, "uplinkId");
    Napi::Value a = p.Get("address");
    if (!a.IsString()) throw Napi::TypeError::New(env, "path address must be a string");
    ParseAddress(env, a.As<Napi::String>(), &sel->paths[i].remote.family, sel->paths[i].remote.addr);
    sel->paths[i].remote.port = uint16_t(Field(p, "port", UINT16_MAX));
  }
  sel->class_count = classes.Length();
  for (uint32_t i = 0; i < classes.Length(); ++i) {
    if (!classes.Get(i).IsObject()) throw Napi::TypeError::New(env, "class must be an object");
    ParseClass(env, classes.Get(i).As<Napi::Object>(), &sel->classes[i]);
  }
  Check(env, sag_dp_set_selection(Handle(env), peer, sel.get()));
  return env.Undefined();
}

// sendProbe(peerId, uplinkId, address, port, pathId, sequence (bigint)): 'sent', 'no-session' (nothing
// to probe with yet), 'unreachable' (no route from the uplink: link down) or 'refused' (other refusal).
Napi::Value NativeDataplane::SendProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sag_endpoint to = Endpoint(info, 2, 3);
  int rc = sag_dp_send_probe(Handle(env), U32(info, 0, "peerId"), U32(info, 1, "uplinkId"), &to,
                             U32(info, 4, "pathId"), U64(info, 5, "sequence"));
  if (rc == SAG_ESTATE) return Napi::String::New(env, "no-session");
  if (rc == SAG_EUNREACH) return Napi::String::New(env, "unreachable");
  if (rc == SAG_ESYS) return Napi::String::New(env, "refused");
  Check(env, rc);
  return Napi::String::New(env, "sent");
}

// Routing domains and rate limits (sag.h). Domains are numbers; 0 is the dataplane's own TUN.
Napi::Value NativeDataplane::AddDomainTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "name must be a string");
  std::string name = info[0].As<Napi::String>();
  char actual[64] = {};
  uint32_t id = 0;
  Check(env, sag_dp_add_domain_tun(Handle(env), name.c_str(), actual, sizeof actual, &id));
  Napi::Object o = Napi::Object::New(env);
  o.Set("domain", Napi::Number::New(env, id));
  o.Set("name", Napi::String::New(env, actual));
  return o;
}

Napi::Value NativeDataplane::RemoveDomain(const Napi::CallbackInfo& info) {
  Check(info.Env(), sag_dp_remove_domain(Handle(info.Env()), U32(info, 0, "domain")));
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::SetPeerDomain(const Napi::CallbackInfo& info) {
  Check(info.Env(),
        sag_dp_set_peer_domain(Handle(info.Env()), U32(info, 0, "peerId"), U32(info, 1, "domain")));
  return info.Env().Undefined();
}

Napi::Value NativeDataplane::SetRateLimit(const Napi::CallbackInfo& info) {
  Check(info.Env(), sag_dp_set_rate_limit(Handle(info.Env()), U32(info, 0, "peerId"),
                                          U64(info, 1, "bytesPerSecond"), U64(info, 2, "burstBytes")));
  return info.Env().Undefined();
}

}  // namespace sagaddon
