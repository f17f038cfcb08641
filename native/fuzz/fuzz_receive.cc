// libFuzzer target: the native receive path (pipeline/receive.cc) on arbitrary datagrams, with and
// without a valid session, checked against an independent model of what it must do.
//
// The dataplane under test: one DataplaneTables (as Dataplane owns it) with an in-memory TUN, two
// in-memory UDP uplinks and two peers, and one ReceiveWorker driven synchronously through
// process_batch()/slot() on this thread (with one decrypting helper thread, whose split of a batch
// must not change any result), so every run of an input is the same. Dataplane keeps its
// tables and workers private, so this file fills the tables itself, applying the same keypair
// rotation rules as Dataplane::install_keypair (initiator: current at once, old current kept as
// previous; responder: waits as next, previous cleared; unslotted keypairs swept). The tables and
// the worker (whose buffers are large) live across inputs; everything else is rebuilt per input.
//
// ---- Input format ------------------------------------------------------------------------------
// byte 0: setup
//   bits 0-2  peer 1's keypairs, as install sequences (i = initiator, r = responder):
//             0 none (no session)   1 101i        2 101i 102i   3 101i 102r
//             4 101i 102i 103r      5 101r        6 101r 102i   7 101i 102i 103i
//             peer 2 always has keypair 201 installed as initiator (current).
//   bits 3-4  0: nothing expired, 1: 101 expired, 2: 102 expired, 3: 201 expired
//   bit 5     allowed IPs: 0 split (peer 1 10.0.0.0/24 fd00::/64; peer 2 10.0.0.128/25 10.0.1.0/24
//             fd00::8000:0:0:0/65 fd00:0:0:1::/64), 1 the same but peer 1 also has 0.0.0.0/0, ::/0
//   bit 6     peer 1 has a staged packet (a confirmation must request a flush)
//   bit 7     peer 1 has no endpoint yet
// then records, each a little-endian u16 length L and L bytes (fewer at the end of the input):
//   record[0] kind
//     bit 0   0: raw datagram = record[1..]; 1: sealed transport message (below)
//     bit 1   the batch ends after this record (a batch also ends after 16 records or at the end)
//     bits 2-3 source: 0 198.51.100.1:51820 (peer 1's configured endpoint), 1 198.51.100.2:4444
//             (peer 2's), 2 [2001:db8::2]:51820, 3 198.51.100.1:51821
//     bit 4   (first record of a batch) the batch arrives on uplink 2 instead of uplink 1
//     bit 5   (raw) reported as longer than the largest datagram, as recv_batch does (len 65536)
//   sealed: record[1..14] parameters (missing bytes read as 0), record[15..] inner packet bytes
//     [1]     receiver and key: 0 101/k101  1 102/k102  2 103/k103  3 201/k201  4 101/k102 (wrong key)
//             5 999/k101 (unknown index)  6 102/k101 (wrong key)  7 0/k101 (index 0 is reserved)
//     [2]     bits 0-1 inner fix-up: 0 none, 1 IPv4 header, 2 IPv6 header, 3 keepalive (no inner)
//             bit 3 keep the fuzzer's length field (a lying IP length) in a fix-up
//             bit 4 counter = last counter accepted on that keypair + (int16) counter bits 0-15
//             bit 5 counter = REJECT_AFTER_MESSAGES + (int16) counter bits 0-15
//     [3]     source address for a fix-up: bits 6-7 0 keep the inner bytes', 1 inside peer 1's
//             prefix, 2 inside peer 2's, 3 elsewhere (2001:db8:ffff::/48 for IPv6); bits 0-5 host
//     [4..5]  LE16 inner length: 0 keeps the inner bytes as they are, else truncate or zero-extend
//     [6]     padding bytes appended after the inner packet (zeros, as a sender pads)
//     [7..14] LE64 counter
//   The plaintext (inner + padding) is capped so the datagram fits in 65535 bytes, then sealed
//   with ChaCha20-Poly1305 under the chosen key and counter behind a transport header.
//
// ---- Invariants ----------------------------------------------------------------------------------
// From the issue, checked on what the dataplane did, after every batch:
//  I1 counters (both uplinks, both peers, global) never decrease;
//  I2 accounting: every datagram is either counted by its uplink as received (a control message
//     handed to the control plane, or an authenticated transport message) or dropped for exactly
//     one reason before authentication (uplink: malformed, bad type, too big, unknown index, event
//     queue full; peer: no usable session, replay, duplicate, bad tag); and every authenticated one is exactly one
//     of a keepalive, an inner packet dropped (malformed, too big, source not allowed) or a packet
//     written to the TUN (or a TUN write failure). (The pipeline counts rx on authentication, as
//     wireguard-go does, so an authenticated datagram with a bad inner packet is rx *and* a drop:
//     hence two levels rather than "rx or one drop". A peer's queue-full drop counts a lost event,
//     not a datagram, and is left out of both sums.)
//  I3 nothing written to the TUN is larger than the MTU, and every packet written is a whole IPv4
//     or IPv6 packet whose source address lies in the allowed IPs of the peer it came from
//     (checked by brute force over the configured prefixes, not with the trie).
// From the model (an independent re-statement of receive.h's contract), after every batch:
//  M1 every counter field equals the model's (except that an inner packet shorter than an IPv4
//     header or longer than the MTU may be dropped as malformed, too big or source not allowed:
//     the model requires a drop but not which one); the TUN received exactly the model's packets, in
//     order and byte for byte; the event queue holds exactly the model's events (CONTROL with the
//     datagram, ENDPOINT_CHANGED with the new source, KEYPAIR_CONFIRMED with the index), with
//     queue-full drops where the model's bounded queue (capacity 8, of which handshakes may take
//     6) overflows, and peer events ahead of handshakes; flush requests and
//     the peers' keypair slots and endpoints equal the model's;
//  M2 the replay window accepts exactly what a set-based reference accepts (window 8128, counters
//     below REJECT_AFTER_MESSAGES, nothing twice);
//  M3 an authenticated path probe request is answered natively: one reply per request with a
//     current keypair while the peer's reply budget lasts (SAG_PROBE_REPLY_BURST at once, then
//     SAG_PROBE_REPLY_RATE a second; beyond it a rate_limited drop), sealed under it with the next
//     send counter, from the uplink the request came in on, to its source, echoing it (a
//     no-session drop when there is no current keypair);
//     a probe reply becomes a PROBE_REPLY event with the path id and sequence.
// Datagrams are copied into the worker's buffers with the bytes past their length poisoned for
// ASan, so a read beyond a datagram is caught even though the buffers are contiguous.
//
// Environment: SAG_FUZZ_RECEIVE_IGNORE_MTU=1 skips the MTU part of I3 (to explore past a known,
// reported defect; never set in CI). SAG_FUZZ_RECEIVE_TRACE=1 prints what each batch did.
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "aead.h"
#include "dataplane.h"
#include "io/testing/memory_tun.h"
#include "io/testing/memory_udp.h"
#include "pipeline/receive.h"
#include "wire.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define SAG_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define SAG_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#endif
#endif
#ifndef SAG_POISON
#define SAG_POISON(p, n) ((void)(p), (void)(n))
#define SAG_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace {

using namespace sag;

constexpr uint32_t kMtu = 1420;
constexpr int kBatch = 16;
constexpr uint32_t kEventCapacity = 8;
constexpr uint32_t kEventReserved = 2;  // SAG_EVENT_RESERVED_PERCENT (25) of 8: for peer events alone
constexpr size_t kMaxRecords = 64;
constexpr uint64_t kWindow = 8128;  // replay.h: counters at most this far behind the newest pass
constexpr uint64_t kRejectAfter = UINT64_MAX - (uint64_t(1) << 13);

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_receive invariant violated: %s\n", what.c_str());
  std::abort();
}
#define REQUIRE(cond, msg)                                \
  do {                                                    \
    if (!(cond)) fail(std::string(#cond) + ": " + (msg)); \
  } while (0)

// The dataplane's clock (roaming reads it once per batch): advanced by kBatchStepNs per batch.
constexpr uint64_t kBatchStepNs = 60'000'000;
uint64_t g_now_ns = 0;
uint64_t fuzz_clock() {
  return g_now_ns;
}
// Roaming rules restated (roaming.h): a refused counter accepted over another path among the
// last 64 counters (remembered once the peer has sent a probe), arriving over a path the peer's
// probes came over lately, is a duplicate; once one was seen within 2 s, a move back to the endpoint just
// left waits until the current one has been quiet for 200 ms.
constexpr uint64_t kRecentSlots = 64;
constexpr uint64_t kFlipHoldNs = 200'000'000;
constexpr uint64_t kDuplicateMemoryNs = 2'000'000'000;
constexpr uint64_t kProbedRecentNs = 5'000'000'000;  // ...and only over a path probed this recently

// ---- fixed world --------------------------------------------------------------------------------

struct KeySpec {
  uint32_t index;
  int peer;  // 0: peer 1, 1: peer 2
};
const KeySpec kKeys[4] = {{101, 0}, {102, 0}, {103, 0}, {201, 1}};

void key_bytes(uint32_t index, uint8_t out[32]) {
  for (int i = 0; i < 32; ++i) out[i] = uint8_t(index * 37 + i * 7 + 1);
}

Endpoint ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  uint8_t addr[4] = {a, b, c, d};
  return Endpoint::v4(addr, port);
}
Endpoint ep6_db8(uint8_t last, uint16_t port) {
  uint8_t addr[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last};
  return Endpoint::v6(addr, port);
}
Endpoint source(int sel) {
  switch (sel & 3) {
    case 0:
      return ep4(198, 51, 100, 1, 51820);
    case 1:
      return ep4(198, 51, 100, 2, 4444);
    case 2:
      return ep6_db8(2, 51820);
    default:
      return ep4(198, 51, 100, 1, 51821);
  }
}
int source_index(const Endpoint& e) {
  for (int i = 0; i < 4; ++i)
    if (source(i) == e) return i;
  return -1;
}

struct Prefix {
  int family;
  uint8_t addr[16];
  uint8_t cidr;
  int peer;
};

std::vector<Prefix> allowed_layout(bool full_tunnel) {
  std::vector<Prefix> v;
  v.push_back({4, {10, 0, 0, 0}, 24, 0});
  v.push_back({6, {0xfd, 0}, 64, 0});
  v.push_back({4, {10, 0, 0, 128}, 25, 1});
  v.push_back({4, {10, 0, 1, 0}, 24, 1});
  Prefix p6{6, {0xfd, 0}, 65, 1};
  p6.addr[8] = 0x80;
  v.push_back(p6);
  Prefix q6{6, {0xfd, 0}, 64, 1};
  q6.addr[7] = 1;
  v.push_back(q6);
  if (full_tunnel) {
    v.push_back({4, {0}, 0, 0});
    v.push_back({6, {0}, 0, 0});
  }
  return v;
}

bool prefix_contains(const Prefix& p, int family, const uint8_t* addr) {
  if (p.family != family) return false;
  for (int bit = 0; bit < p.cidr; ++bit) {
    int byte = bit / 8, shift = 7 - bit % 8;
    if (((p.addr[byte] >> shift) & 1) != ((addr[byte] >> shift) & 1)) return false;
  }
  return true;
}

// Brute-force longest-prefix match: the owning peer (0/1) or -1.
int ref_lookup(const std::vector<Prefix>& prefixes, int family, const uint8_t* addr) {
  int best = -1, best_cidr = -1;
  for (auto& p : prefixes)
    if (prefix_contains(p, family, addr) && p.cidr > best_cidr) {
      best = p.peer;
      best_cidr = p.cidr;
    }
  return best;
}

// ---- the model ----------------------------------------------------------------------------------

struct ModelReplay {
  bool any = false;
  uint64_t last = 0;
  std::set<uint64_t> seen;
  bool may_accept(uint64_t c) const {
    if (c >= kRejectAfter) return false;
    if (!any || c > last) return true;
    if (last - c > kWindow) return false;
    return seen.count(c) == 0;
  }
  void accept(uint64_t c) {
    any = true;
    last = std::max(last, c);
    seen.insert(c);
  }
};

struct ModelKeypair {
  int peer;
  uint8_t key[32];
  bool expired = false;
  ModelReplay replay;
  uint64_t sent = 0;  // counters taken by native replies to probes (the tables start them at 0)
  struct Recent {
    bool used = false;
    uint64_t counter = 0;
    uint32_t uplink = 0;
    Endpoint from;
  } recent[kRecentSlots];
};

struct ModelPeer {
  uint32_t id;
  uint32_t previous = 0, current = 0, next = 0;  // keypair indices, 0 = empty
  Endpoint endpoint;
  uint32_t uplink_id = 0;
  bool has_endpoint = false;
  Endpoint left;  // the endpoint roaming last moved away from
  uint32_t left_uplink = 0;
  bool has_left = false;
  uint64_t endpoint_seen_ns = 0, duplicate_ns = 0;
  // When an authenticated probe last came over (uplink id, source): the peer's probed paths. (The
  // dataplane keeps 8; the world has 2 uplinks x 4 sources, so it never has to forget one.)
  std::map<std::pair<uint32_t, int>, uint64_t> probed;
  bool staged = false;
  uint64_t reply_tat = 0;  // the probe reply budget (below)
  sag_counters counters{};
  // Authenticated datagrams whose inner packet must be dropped as any one of malformed, too big
  // or source not allowed: counters are exact except that these may land in any of the three.
  uint64_t inner_either = 0;
};

struct ExpectedEvent {
  sag_event ev;  // only the fields the pipeline sets are compared
  bool has_from;
};

// A probe reply the dataplane must send: sealed under the peer's current keypair (send key 0x5a..,
// receiver index local + 1000), from the uplink the request came in on, back to its source.
struct ExpectedReply {
  int source;  // source(sel) it goes to
  int uplink;  // 0 or 1: the uplink it leaves from
  uint32_t receiver;
  uint64_t counter;
  uint8_t probe[24];  // the request with its kind set to reply
};

struct Model {
  std::map<uint32_t, ModelKeypair> keypairs;
  std::vector<ExpectedReply> replies;
  // Probe requests that could not be answered (no current keypair): rx *and* a no-session drop.
  uint64_t unanswered_probes = 0;
  ModelPeer peers[2];
  sag_counters uplinks[2]{};
  std::vector<Prefix> prefixes;
  // Per batch. Events in their two lanes (event_queue.h): what pop() returns is peer then control.
  std::vector<ExpectedEvent> peer_events, control_events;
  std::vector<std::vector<uint8_t>> tun;
  std::vector<int> tun_peer;
  std::vector<uint32_t> flushes;

  void install(uint32_t index, bool initiator) {
    const KeySpec* spec = nullptr;
    for (auto& k : kKeys)
      if (k.index == index) spec = &k;
    ModelKeypair kp{};
    kp.peer = spec->peer;
    key_bytes(index, kp.key);
    keypairs[index] = kp;
    ModelPeer& p = peers[spec->peer];
    if (initiator) {
      p.previous = p.next ? p.next : p.current;
      p.next = 0;
      p.current = index;
    } else {
      p.next = index;
      p.previous = 0;
    }
    for (auto it = keypairs.begin(); it != keypairs.end();) {  // sweep keypairs in no slot
      const ModelPeer& q = peers[it->second.peer];
      bool slotted = q.previous == it->first || q.current == it->first || q.next == it->first;
      it = slotted ? std::next(it) : keypairs.erase(it);
    }
  }

  // The queue restated: kEventCapacity slots in all, of which handshakes may take all but
  // kEventReserved. True if queued.
  bool push_event(const sag_event& ev, bool has_from, sag_counters* on_full) {
    bool control = ev.type == SAG_EVENT_CONTROL;
    if (peer_events.size() + control_events.size() >= kEventCapacity ||
        (control && control_events.size() >= kEventCapacity - kEventReserved)) {
      on_full->drops[SAG_DROP_QUEUE_FULL]++;
      return false;
    }
    (control ? control_events : peer_events).push_back({ev, has_from});
    return true;
  }

  // The probe reply budget restated (token_bucket.h's GCRA, one token a reply): a reply costs
  // 1/rate s; it may be sent while that leaves the budget no more than burst/rate s ahead of now.
  static bool take_reply(ModelPeer& p) {
    const uint64_t cost = (1'000'000'000ull + SAG_PROBE_REPLY_RATE - 1) / SAG_PROBE_REPLY_RATE;
    const uint64_t tolerance =
        (uint64_t(SAG_PROBE_REPLY_BURST) * 1'000'000'000ull + SAG_PROBE_REPLY_RATE - 1) /
        SAG_PROBE_REPLY_RATE;
    uint64_t next = std::max(p.reply_tat, g_now_ns) + cost;
    if (next - g_now_ns > tolerance) return false;
    p.reply_tat = next;
    return true;
  }
};

bool trace() {
  static bool v = std::getenv("SAG_FUZZ_RECEIVE_TRACE") != nullptr;
  return v;
}

bool ignore_mtu() {
  static bool v = [] {
    const char* e = std::getenv("SAG_FUZZ_RECEIVE_IGNORE_MTU");
    return e && *e && *e != '0';
  }();
  return v;
}

uint8_t ref_message_type(const uint8_t* p, size_t n) {
  return n >= 4 && !p[1] && !p[2] && !p[3] ? p[0] : 0;
}
size_t ref_fixed_size(uint8_t t) {
  return t == 1 ? 148 : t == 2 ? 92 : t == 3 ? 64 : 0;
}
size_t ref_ip_length(const uint8_t* p, size_t n) {
  if (n >= 20 && (p[0] >> 4) == 4) return size_t(p[2]) << 8 | p[3];
  if (n >= 40 && (p[0] >> 4) == 6) return 40 + (size_t(p[4]) << 8 | p[5]);
  return 0;
}
// Source address of a packet of ip_len bytes, as the allowed-IPs check reads it.
int ref_source_peer(const std::vector<Prefix>& prefixes, const uint8_t* p, size_t ip_len) {
  if (ip_len >= 20 && (p[0] >> 4) == 4) return ref_lookup(prefixes, 4, p + 12);
  if (ip_len >= 40 && (p[0] >> 4) == 6) return ref_lookup(prefixes, 6, p + 8);
  return -1;
}

Aead& model_aead() {
  static Aead* a = new Aead;
  return *a;
}

// What receive.cc must do with one datagram (bytes as received, reported length len).
void model_datagram(Model& m, int up, uint32_t up_id, const std::vector<uint8_t>& bytes, size_t len,
                    const Endpoint& from) {
  sag_counters& uc = m.uplinks[up];
  if (len > wire::kMaxDatagramSize) {
    uc.drops[SAG_DROP_TOO_BIG]++;
    return;
  }
  const uint8_t* d = bytes.data();
  uint8_t type = ref_message_type(d, len);
  if (type == 4) {
    if (len < 32) {
      uc.drops[SAG_DROP_MALFORMED]++;
      return;
    }
    uint32_t index = wire::load_le32(d + 4);
    auto it = m.keypairs.find(index);
    if (it == m.keypairs.end()) {
      uc.drops[SAG_DROP_NO_SESSION]++;
      return;
    }
    ModelKeypair& kp = it->second;
    ModelPeer& p = m.peers[kp.peer];
    bool slotted = p.previous == index || p.current == index || p.next == index;
    if (!slotted || kp.expired) {
      p.counters.drops[SAG_DROP_NO_SESSION]++;
      return;
    }
    uint64_t counter = wire::load_le64(d + 8);
    ModelKeypair::Recent& recent = kp.recent[counter % kRecentSlots];
    if (!kp.replay.may_accept(counter)) {
      auto probed = p.probed.find({up_id, source_index(from)});
      bool probed_path = probed != p.probed.end() && g_now_ns - probed->second < kProbedRecentNs;
      bool copy = recent.used && recent.counter == counter &&
                  !(recent.uplink == up_id && recent.from == from) && probed_path;
      p.counters.drops[copy ? SAG_DROP_DUPLICATE : SAG_DROP_REPLAY]++;
      if (copy) p.duplicate_ns = g_now_ns;
      return;
    }
    size_t body_len = len - 16;
    std::vector<uint8_t> plain(body_len);
    if (!model_aead().open(kp.key, counter, d + 16, body_len, plain.data())) {
      p.counters.drops[SAG_DROP_BAD_AUTH]++;
      return;
    }
    kp.replay.accept(counter);
    if (!p.probed.empty()) recent = {true, counter, up_id, from};  // only peers that probe may duplicate
    if (p.next == index) {
      p.previous = p.current;
      p.current = index;
      p.next = 0;
      sag_event ev{};
      ev.type = SAG_EVENT_KEYPAIR_CONFIRMED;
      ev.peer_id = p.id;
      ev.index = index;
      m.push_event(ev, false, &p.counters);
      if (p.staged) m.flushes.push_back(p.id);
    }
    size_t plain_probe_len = body_len - 16;
    // Path probes (wire.h; restated): kind 0x51 request or 0x52 reply, three zero bytes, 24 bytes
    // at least. Counted like keepalives, never roam, never reach the TUN. A request is answered
    // natively on the same uplink; a reply becomes a PROBE_REPLY event.
    if (plain_probe_len >= 24 && (plain[0] == 0x51 || plain[0] == 0x52) && !plain[1] && !plain[2] &&
        !plain[3]) {
      for (sag_counters* c : {&p.counters, &uc}) {
        c->rx_packets++;
        c->rx_bytes += len;
        c->rx_keepalives++;
      }
      p.probed[{up_id, source_index(from)}] = g_now_ns;
      if (plain[0] == 0x52) {
        sag_event ev{};
        ev.type = SAG_EVENT_PROBE_REPLY;
        ev.peer_id = p.id;
        ev.uplink_id = up_id;
        ev.index = wire::load_le32(plain.data() + 4);
        ev.from = to_api(from);
        ev.len = 16;
        std::memcpy(ev.data, plain.data() + 8, 8);  // the sequence (the RTT that follows is timing)
        m.push_event(ev, true, &p.counters);
        return;
      }
      if (!Model::take_reply(p)) {  // no rx rate limit in this world: the reply budget alone
        p.counters.drops[SAG_DROP_RATE_LIMITED]++;
        m.unanswered_probes++;
        return;
      }
      auto cur = m.keypairs.find(p.current);
      if (p.current == 0 || cur == m.keypairs.end() || cur->second.expired) {
        p.counters.drops[SAG_DROP_NO_SESSION]++;
        m.unanswered_probes++;
        return;
      }
      ExpectedReply r{source_index(from), up, p.current + 1000, cur->second.sent++, {}};
      std::memcpy(r.probe, plain.data(), 24);
      r.probe[0] = 0x52;
      m.replies.push_back(r);
      for (sag_counters* c : {&p.counters, &uc}) {
        c->tx_packets++;
        c->tx_bytes += 16 + 32 + 16;  // header, the probe padded to 16, tag
        c->tx_keepalives++;
      }
      return;
    }
    bool same = p.has_endpoint && p.endpoint == from && p.uplink_id == up_id;
    bool back = p.has_left && p.left == from && p.left_uplink == up_id;
    bool copies = p.duplicate_ns != 0 && g_now_ns - p.duplicate_ns < kDuplicateMemoryNs;
    bool held = back && copies && g_now_ns - p.endpoint_seen_ns < kFlipHoldNs;
    if (same || !held) p.endpoint_seen_ns = g_now_ns;
    if (!same && !held) {
      if (p.has_endpoint) p.left = p.endpoint, p.left_uplink = p.uplink_id, p.has_left = true;
      p.endpoint = from;
      p.uplink_id = up_id;
      p.has_endpoint = true;
      sag_event ev{};
      ev.type = SAG_EVENT_ENDPOINT_CHANGED;
      ev.peer_id = p.id;
      ev.uplink_id = up_id;
      ev.from = to_api(from);
      m.push_event(ev, true, &p.counters);
    }
    size_t plain_len = body_len - 16;
    for (sag_counters* c : {&p.counters, &uc}) {
      c->rx_packets++;
      c->rx_bytes += len;
      if (plain_len == 0) c->rx_keepalives++;
    }
    if (plain_len == 0) return;
    size_t ip_len = ref_ip_length(plain.data(), plain_len);
    if (ip_len == 0 || ip_len > plain_len) {
      p.counters.drops[SAG_DROP_MALFORMED]++;
      return;
    }
    // Must be dropped, for a reason the model leaves open (see ModelPeer::inner_either):
    //  - an IPv4 total length below the 20-byte header (receive.cc counts it as source not
    //    allowed, because the allowed-IPs lookup refuses a packet that short; malformed is apter);
    //  - an inner packet larger than the MTU (receive.cc delivers it today: I3 reports that).
    if (ip_len < wire::kMinIpv4HeaderSize || (ip_len > kMtu && !ignore_mtu())) {
      p.inner_either++;
      return;
    }
    if (ref_source_peer(m.prefixes, plain.data(), ip_len) != kp.peer) {
      p.counters.drops[SAG_DROP_SOURCE_NOT_ALLOWED]++;
      return;
    }
    m.tun.emplace_back(plain.begin(), plain.begin() + long(ip_len));
    m.tun_peer.push_back(kp.peer);
  } else if (type >= 1 && type <= 3) {
    if (len != ref_fixed_size(type)) {
      uc.drops[SAG_DROP_MALFORMED]++;
      return;
    }
    sag_event ev{};
    ev.type = SAG_EVENT_CONTROL;
    ev.uplink_id = up_id;
    ev.from = to_api(from);
    ev.len = uint32_t(len);
    std::memcpy(ev.data, d, len);
    if (m.push_event(ev, true, &uc)) {
      uc.rx_packets++;
      uc.rx_bytes += len;
    }
  } else {  // no header (type 0 included: no message has it), or a type that is not WireGuard's
    uc.drops[type == 0 ? SAG_DROP_MALFORMED : SAG_DROP_BAD_TYPE]++;
  }
}

// ---- the dataplane under test -------------------------------------------------------------------

struct World {
  DataplaneTables* tables;
  ReceiveWorker* worker;
  MemoryNetwork* net;
  MemoryTun* tun = nullptr;
  Uplink* uplinks[2] = {};
  Peer* peers[2] = {};
  std::unique_ptr<UdpSocket> sources[4];  // where the datagrams "come from": probe replies land here
  uint8_t tun_scratch[2048];
};

World& world() {
  static World* w = [] {
    DataplaneConfig cfg;
    cfg.mtu = kMtu;
    cfg.batch_size = kBatch;
    cfg.event_capacity = kEventCapacity;
    cfg.receive_workers = 2;
    auto* tables = new DataplaneTables(cfg);
    tables->clock = fuzz_clock;
    tables->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    auto* world = new World{tables, new ReceiveWorker(*tables), new MemoryNetwork, nullptr, {}, {}, {}, {}};
    for (int i = 0; i < 4; ++i) world->sources[i] = world->net->bind(source(i));
    return world;
  }();
  return *w;
}

void drain_events(DataplaneTables& t) {
  sag_event ev;
  while (t.events.pop(&ev)) {
  }
}

void reset_world(World& w, Model& m, uint8_t setup) {
  DataplaneTables& t = *w.tables;
  t.keypairs.clear();
  t.peers.clear();
  t.allowed_ips.clear();
  t.uplinks.clear();  // closes the memory sockets, unbinding them from the network
  auto tun = std::make_unique<MemoryTun>();
  w.tun = tun.get();
  t.tun = std::move(tun);
  drain_events(t);
  t.flush_list.clear();
  uint64_t drain;
  (void)!read(t.wake_fd, &drain, sizeof drain);

  Endpoint locals[2] = {ep4(192, 0, 2, 1, 51820), ep6_db8(1, 51820)};
  Datagram stale{w.tun_scratch, 0, {}};
  for (auto& src : w.sources) {  // bound once; replies left over from the last input are dropped
    if (!src) continue;
    while (src->recv_batch(&stale, sizeof w.tun_scratch, 1) == 1) {
    }
  }
  for (int i = 0; i < 2; ++i) {
    auto up = std::make_unique<Uplink>();
    up->id = uint32_t(i + 1);
    up->socket = w.net->bind(locals[i]);
    w.uplinks[i] = up.get();
    t.uplinks.emplace(up->id, std::move(up));
  }
  for (int i = 0; i < 2; ++i) {
    auto p = std::make_unique<Peer>();
    p->id = uint32_t(i + 1);
    p->public_key[0] = uint8_t(i + 1);
    w.peers[i] = p.get();
    m.peers[i].id = p->id;
    t.peers.emplace(p->id, std::move(p));
  }

  // Endpoints: peer 1 at source 0 (unless bit 7), peer 2 at source 1, both on uplink 1.
  if (!(setup & 0x80)) {
    m.peers[0].endpoint = source(0);
    m.peers[0].uplink_id = 1;
    m.peers[0].has_endpoint = true;
  }
  m.peers[1].endpoint = source(1);
  m.peers[1].uplink_id = 1;
  m.peers[1].has_endpoint = true;
  m.peers[0].staged = setup & 0x40;

  // Keypairs, through the model's copy of the install rules, then mirrored into the tables.
  static const std::vector<std::pair<uint32_t, bool>> kSequences[8] = {
      {},
      {{101, true}},
      {{101, true}, {102, true}},
      {{101, true}, {102, false}},
      {{101, true}, {102, true}, {103, false}},
      {{101, false}},
      {{101, false}, {102, true}},
      {{101, true}, {102, true}, {103, true}},
  };
  for (auto& [index, initiator] : kSequences[setup & 7]) m.install(index, initiator);
  m.install(201, true);
  uint32_t expire = (setup >> 3) & 3;
  uint32_t expire_index = expire == 1 ? 101 : expire == 2 ? 102 : expire == 3 ? 201 : 0;
  if (m.keypairs.count(expire_index)) m.keypairs[expire_index].expired = true;

  std::map<uint32_t, Keypair*> real;
  for (auto& [index, mk] : m.keypairs) {
    auto kp = std::make_unique<Keypair>();
    kp->local_index = index;
    kp->remote_index = index + 1000;
    std::memcpy(kp->recv_key, mk.key, 32);
    std::memset(kp->send_key, 0x5a, 32);
    kp->initiator = true;
    kp->created_ns = 1;
    kp->peer = w.peers[mk.peer];
    kp->expired.store(mk.expired);
    real[index] = kp.get();
    t.keypairs.emplace(index, std::move(kp));
  }
  auto slot = [&](uint32_t index) { return index ? real.at(index) : nullptr; };
  for (int i = 0; i < 2; ++i) {
    Peer* p = w.peers[i];
    ModelPeer& mp = m.peers[i];
    p->previous.store(slot(mp.previous));
    p->current.store(slot(mp.current));
    p->next.store(slot(mp.next));
    p->endpoint = mp.endpoint;
    p->uplink_id = mp.uplink_id;
    p->has_endpoint = mp.has_endpoint;
    if (mp.staged) {
      p->staged.emplace_back(40, uint8_t(0x60));
      p->staged_count.store(1);
    }
  }

  m.prefixes = allowed_layout(setup & 0x20);
  for (auto& pr : m.prefixes) {
    if (!t.allowed_ips.insert(pr.family, pr.addr, pr.cidr, w.peers[pr.peer])) fail("allowed IPs setup");
  }
}

// ---- input decoding -----------------------------------------------------------------------------

struct Record {
  uint8_t kind = 0;
  std::vector<uint8_t> bytes;
  size_t len = 0;  // reported length (may exceed bytes.size() for "too big")
  Endpoint from;
};

uint64_t le(const uint8_t* p, size_t n, size_t off, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v |= uint64_t(off + i < n ? p[off + i] : 0) << (8 * i);
  return v;
}

void set_source(std::vector<uint8_t>& inner, int family, uint8_t sel, bool full_tunnel) {
  (void)full_tunnel;
  int mode = sel >> 6;
  uint8_t host = sel & 63;
  if (mode == 0) return;
  if (family == 4) {
    uint8_t a[4] = {10, 0, 0, host};
    if (mode == 2) a[3] = uint8_t(128 + host);
    if (mode == 3) a[2] = 1;  // 10.0.1.x: peer 2
    std::memcpy(&inner[12], a, 4);
  } else {
    uint8_t a[16] = {0xfd, 0};
    if (mode == 2) a[8] = 0x80;
    if (mode == 3) {
      a[0] = 0x20;
      a[1] = 0x01;
      a[2] = 0x0d;
      a[3] = 0xb8;
      a[4] = 0xff;
      a[5] = 0xff;
    }
    a[15] = host;
    std::memcpy(&inner[8], a, 16);
  }
}

Record sealed_record(const uint8_t* r, size_t n, const Model& m, bool full_tunnel) {
  static const struct {
    uint32_t index;
    uint32_t key;
  } kChoice[8] = {{101, 101}, {102, 102}, {103, 103}, {201, 201},
                  {101, 102}, {999, 101}, {102, 101}, {0, 101}};
  auto choice = kChoice[le(r, n, 1, 1) & 7];
  uint8_t mode = uint8_t(le(r, n, 2, 1));
  uint8_t src = uint8_t(le(r, n, 3, 1));
  size_t target = size_t(le(r, n, 4, 2));
  size_t pad = size_t(le(r, n, 6, 1));
  uint64_t counter = le(r, n, 7, 8);
  int64_t delta = int16_t(uint16_t(counter));
  if (mode & 0x10) {
    auto it = m.keypairs.find(choice.index);
    counter = (it == m.keypairs.end() ? 0 : it->second.replay.last) + uint64_t(delta);
  } else if (mode & 0x20) {
    counter = kRejectAfter + uint64_t(delta);
  }
  std::vector<uint8_t> inner;
  if (n > 15) inner.assign(r + 15, r + n);
  int fix = mode & 3;
  if (fix == 3) {
    inner.clear();
  } else {
    if (target) inner.resize(target, 0);
    if (fix == 1 || fix == 2) {
      size_t header = fix == 1 ? 20 : 40;
      if (inner.size() < header) inner.resize(header, 0);
    }
  }
  const size_t max_plain = wire::kMaxDatagramSize - wire::kTransportOverhead;
  if (inner.size() > max_plain) inner.resize(max_plain);
  if (fix == 1) {
    inner[0] = 0x45;
    if (!(mode & 0x08)) {
      inner[2] = uint8_t(inner.size() >> 8);
      inner[3] = uint8_t(inner.size());
    }
    set_source(inner, 4, src, full_tunnel);
  } else if (fix == 2) {
    inner[0] = uint8_t(0x60 | (inner[0] & 0x0f));
    if (!(mode & 0x08)) {
      inner[4] = uint8_t((inner.size() - 40) >> 8);
      inner[5] = uint8_t(inner.size() - 40);
    }
    set_source(inner, 6, src, full_tunnel);
  }
  size_t plain_len = std::min(inner.size() + pad, max_plain);
  inner.resize(plain_len, 0);
  Record rec;
  rec.bytes.assign(wire::kTransportHeaderSize + plain_len + wire::kAuthTagSize, 0);
  wire::write_transport_header(rec.bytes.data(), choice.index, counter);
  uint8_t key[32];
  key_bytes(choice.key, key);
  if (!model_aead().seal(key, counter, inner.data(), plain_len,
                         rec.bytes.data() + wire::kTransportHeaderSize))
    fail("sealing a test message");
  rec.len = rec.bytes.size();
  return rec;
}

// ---- checks -------------------------------------------------------------------------------------

std::string describe(const sag_counters& c) {
  std::string s = "rx " + std::to_string(c.rx_packets) + "/" + std::to_string(c.rx_bytes) + "B ka " +
                  std::to_string(c.rx_keepalives) + " tx " + std::to_string(c.tx_packets);
  for (int r = 0; r < SAG_DROP_REASON_COUNT; ++r)
    if (c.drops[r]) s += std::string(" ") + sag_drop_reason_name(r) + "=" + std::to_string(c.drops[r]);
  return s;
}

bool same(const sag_counters& a, const sag_counters& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

void require_monotonic(const sag_counters& before, const sag_counters& after, const char* who) {
  const uint64_t* b = &before.rx_packets;
  const uint64_t* a = &after.rx_packets;
  for (size_t i = 0; i < sizeof(sag_counters) / sizeof(uint64_t); ++i)
    REQUIRE(a[i] >= b[i], std::string(who) + " counter field " + std::to_string(i) + " went down");
}

sag_counters minus(const sag_counters& a, const sag_counters& b) {
  sag_counters d;
  const uint64_t* pa = &a.rx_packets;
  const uint64_t* pb = &b.rx_packets;
  uint64_t* pd = &d.rx_packets;
  for (size_t i = 0; i < sizeof(sag_counters) / sizeof(uint64_t); ++i) pd[i] = pa[i] - pb[i];
  return d;
}

struct Snapshot {
  sag_counters up[2], peer[2], global;
};
Snapshot snapshot(World& w) {
  Snapshot s;
  for (int i = 0; i < 2; ++i) {
    w.uplinks[i]->counters.snapshot(&s.up[i]);
    w.peers[i]->counters.snapshot(&s.peer[i]);
  }
  w.tables->global.snapshot(&s.global);
  return s;
}

// M3: the probe replies the dataplane sent, per source in order, byte for byte once opened.
void check_replies(World& w, const Model& m) {
  std::vector<ExpectedReply> want[4];
  for (const auto& r : m.replies) want[r.source].push_back(r);
  uint8_t key[32];
  std::memset(key, 0x5a, 32);
  for (int s = 0; s < 4; ++s) {
    std::vector<uint8_t> buf(wire::kMaxDatagramSize);
    Datagram d{buf.data(), 0, {}};
    size_t i = 0;
    for (; w.sources[s]->recv_batch(&d, buf.size(), 1) == 1; ++i) {
      std::string which = "probe reply " + std::to_string(i) + " to source " + std::to_string(s);
      REQUIRE(i < want[s].size(), which + " was not expected");
      const ExpectedReply& r = want[s][i];
      REQUIRE(d.peer == w.uplinks[r.uplink]->socket->local(), which + " left from the wrong uplink");
      REQUIRE(d.len == 64 && buf[0] == 4 && wire::load_le32(&buf[4]) == r.receiver &&
                  wire::load_le64(&buf[8]) == r.counter,
              which + ": wrong size, receiver index or counter");
      uint8_t plain[48];
      REQUIRE(model_aead().open(key, r.counter, &buf[16], 48, plain), which + " does not authenticate");
      REQUIRE(std::memcmp(plain, r.probe, 24) == 0, which + " does not echo the request");
      for (int z = 24; z < 32; ++z) REQUIRE(plain[z] == 0, which + " padding is not zero");
    }
    REQUIRE(i == want[s].size(), std::to_string(want[s].size() - i) + " probe replies to source " +
                                     std::to_string(s) + " missing");
  }
}

void check_batch(World& w, Model& m, const Snapshot& before, int n) {
  Snapshot after = snapshot(w);
  DataplaneTables& t = *w.tables;

  if (trace()) {
    std::fprintf(stderr, "batch of %d:", n);
    for (int i = 0; i < 2; ++i) {
      std::fprintf(stderr, " | uplink %d %s", i + 1, describe(minus(after.up[i], before.up[i])).c_str());
      std::fprintf(stderr, " | peer %d %s", i + 1, describe(minus(after.peer[i], before.peer[i])).c_str());
    }
    std::fprintf(stderr, " | tun %zu events %zu\n", w.tun->pending_out(), t.events.size());
  }

  // I1: nothing goes down.
  for (int i = 0; i < 2; ++i) {
    require_monotonic(before.up[i], after.up[i], "uplink");
    require_monotonic(before.peer[i], after.peer[i], "peer");
  }
  require_monotonic(before.global, after.global, "global");

  std::vector<std::vector<uint8_t>> written;
  std::vector<uint8_t> pkt;
  while (w.tun->take(&pkt)) written.push_back(pkt);

  // I2: accounting.
  sag_counters du[2] = {minus(after.up[0], before.up[0]), minus(after.up[1], before.up[1])};
  sag_counters dp[2] = {minus(after.peer[0], before.peer[0]), minus(after.peer[1], before.peer[1])};
  sag_counters dg = minus(after.global, before.global);
  uint64_t accounted = 0, authenticated = 0, settled = 0;
  for (int i = 0; i < 2; ++i) {
    accounted += du[i].rx_packets;
    for (int r = 0; r < SAG_DROP_REASON_COUNT; ++r) accounted += du[i].drops[r];
    accounted += dp[i].drops[SAG_DROP_NO_SESSION] + dp[i].drops[SAG_DROP_REPLAY] +
                 dp[i].drops[SAG_DROP_BAD_AUTH] + dp[i].drops[SAG_DROP_DUPLICATE];
    authenticated += dp[i].rx_packets;
    settled += dp[i].rx_keepalives + dp[i].drops[SAG_DROP_MALFORMED] +
               dp[i].drops[SAG_DROP_SOURCE_NOT_ALLOWED] + dp[i].drops[SAG_DROP_TOO_BIG];
    for (int r : {SAG_DROP_NO_ROUTE, SAG_DROP_NO_ENDPOINT, SAG_DROP_IO_ERROR})
      REQUIRE(dp[i].drops[r] == 0,
              std::string("a peer counted a receive drop as ") + sag_drop_reason_name(r));
  }
  settled += written.size() + dg.drops[SAG_DROP_IO_ERROR];
  accounted -= m.unanswered_probes;  // authenticated (rx) and then dropped: one datagram, two counts
  REQUIRE(accounted == uint64_t(n), std::to_string(n) + " datagrams, " + std::to_string(accounted) +
                                        " counted as received or dropped before authentication");
  REQUIRE(settled == authenticated, std::to_string(authenticated) + " authenticated, " +
                                        std::to_string(settled) +
                                        " settled as keepalive, inner drop or TUN write");

  // I3: what reached the TUN.
  for (size_t i = 0; i < written.size(); ++i) {
    const auto& p = written[i];
    std::string which = "TUN packet " + std::to_string(i) + " of " + std::to_string(p.size()) + " bytes";
    if (!ignore_mtu()) REQUIRE(p.size() <= kMtu, which + " is larger than the MTU " + std::to_string(kMtu));
    REQUIRE(!p.empty() && ((p[0] >> 4) == 4 || (p[0] >> 4) == 6), which + " is not IPv4 or IPv6");
    REQUIRE(ref_ip_length(p.data(), p.size()) == p.size(), which + " does not match its own IP length");
    int family = (p[0] >> 4) == 4 ? 4 : 6;
    int owner = ref_lookup(m.prefixes, family, p.data() + (family == 4 ? 12 : 8));
    int from = i < m.tun_peer.size() ? m.tun_peer[i] : -2;
    REQUIRE(owner >= 0 && owner == from, which + " has a source owned by peer " + std::to_string(owner + 1) +
                                             ", sent by peer " + std::to_string(from + 1));
  }

  // M1: the model, exactly.
  for (int i = 0; i < 2; ++i) {
    REQUIRE(same(after.up[i], m.uplinks[i]), "uplink " + std::to_string(i + 1) + ": " +
                                                 describe(after.up[i]) +
                                                 " | model: " + describe(m.uplinks[i]));
    sag_counters real = after.peer[i], want = m.peers[i].counters;
    uint64_t real_inner = 0, want_inner = m.peers[i].inner_either;
    for (int r : {SAG_DROP_MALFORMED, SAG_DROP_TOO_BIG, SAG_DROP_SOURCE_NOT_ALLOWED}) {
      REQUIRE(real.drops[r] >= want.drops[r],
              "peer " + std::to_string(i + 1) + ": " + describe(real) + " | model: " + describe(want) +
                  " (+" + std::to_string(want_inner) + " inner drops of either kind)");
      real_inner += real.drops[r];
      want_inner += want.drops[r];
      real.drops[r] = want.drops[r] = 0;
    }
    REQUIRE(same(real, want) && real_inner == want_inner,
            "peer " + std::to_string(i + 1) + ": " + describe(after.peer[i]) +
                " | model: " + describe(m.peers[i].counters) + " (+" +
                std::to_string(m.peers[i].inner_either) + " inner drops of either kind)");
  }
  REQUIRE(same(dg, sag_counters{}), "global counters moved: " + describe(dg));
  REQUIRE(written.size() == m.tun.size(),
          std::to_string(written.size()) + " TUN packets, model " + std::to_string(m.tun.size()));
  for (size_t i = 0; i < written.size(); ++i)
    REQUIRE(written[i] == m.tun[i], "TUN packet " + std::to_string(i) + " differs from the model's");

  std::vector<sag_event> got;
  sag_event ev;
  while (t.events.pop(&ev)) got.push_back(ev);
  std::vector<ExpectedEvent> want = m.peer_events;
  want.insert(want.end(), m.control_events.begin(), m.control_events.end());
  REQUIRE(got.size() == want.size(),
          std::to_string(got.size()) + " events, model " + std::to_string(want.size()));
  for (size_t i = 0; i < got.size(); ++i) {
    const sag_event& a = got[i];
    const sag_event& b = want[i].ev;
    std::string which = "event " + std::to_string(i) + " (type " + std::to_string(b.type) + ")";
    REQUIRE(a.type == b.type && a.peer_id == b.peer_id && a.uplink_id == b.uplink_id && a.index == b.index,
            which + " header differs: type " + std::to_string(a.type) + " peer " + std::to_string(a.peer_id) +
                " uplink " + std::to_string(a.uplink_id) + " index " + std::to_string(a.index));
    if (want[i].has_from)
      REQUIRE(std::memcmp(&a.from, &b.from, sizeof a.from) == 0, which + " source differs");
    if (b.type == SAG_EVENT_CONTROL)
      REQUIRE(a.len == b.len && std::memcmp(a.data, b.data, b.len) == 0, which + " data differs");
    if (b.type == SAG_EVENT_PROBE_REPLY)
      REQUIRE(a.len == 16 && std::memcmp(a.data, b.data, 8) == 0, which + " sequence differs");
  }
  check_replies(w, m);

  std::vector<uint32_t> flushes;
  {
    std::lock_guard<std::mutex> lock(t.flush_mu);
    flushes.swap(t.flush_list);
  }
  REQUIRE(flushes == m.flushes,
          std::to_string(flushes.size()) + " flush requests, model " + std::to_string(m.flushes.size()));
  uint64_t drain;
  (void)!read(t.wake_fd, &drain, sizeof drain);

  for (int i = 0; i < 2; ++i) {
    Peer* p = w.peers[i];
    const ModelPeer& mp = m.peers[i];
    auto index = [](const std::atomic<Keypair*>& s) {
      Keypair* k = s.load();
      return k ? k->local_index : 0u;
    };
    REQUIRE(index(p->previous) == mp.previous && index(p->current) == mp.current && index(p->next) == mp.next,
            "peer " + std::to_string(i + 1) + " slots " + std::to_string(index(p->previous)) + "/" +
                std::to_string(index(p->current)) + "/" + std::to_string(index(p->next)) + ", model " +
                std::to_string(mp.previous) + "/" + std::to_string(mp.current) + "/" +
                std::to_string(mp.next));
    Endpoint ep;
    uint32_t up = 0;
    bool has = p->endpoint_snapshot(&ep, &up);
    REQUIRE(has == mp.has_endpoint && (!has || (ep == mp.endpoint && up == mp.uplink_id)),
            "peer " + std::to_string(i + 1) + " endpoint differs from the model's");
    REQUIRE(p->staged_count.load() == (mp.staged ? 1u : 0u), "staged packets changed on receive");
  }
  REQUIRE(t.keypairs.size() == m.keypairs.size(), "the receive path changed the keypair table");

  m.peer_events.clear();
  m.control_events.clear();
  m.replies.clear();
  m.unanswered_probes = 0;
  m.tun.clear();
  m.tun_peer.clear();
  m.flushes.clear();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  World& w = world();
  Model m;
  uint8_t setup = data[0];
  reset_world(w, m, setup);
  g_now_ns = 1'000'000'000;

  size_t pos = 1;
  size_t records = 0;
  std::vector<Record> batch;
  int batch_up = 0;
  bool end = false;
  while (!end) {
    // Gather one batch.
    while (batch.size() < size_t(kBatch)) {
      if (records >= kMaxRecords || size - pos < 2) {
        end = true;
        break;
      }
      size_t len = size_t(data[pos]) | size_t(data[pos + 1]) << 8;
      pos += 2;
      len = std::min(len, size - pos);
      const uint8_t* r = data + pos;
      pos += len;
      ++records;
      uint8_t kind = len ? r[0] : 0;
      if (batch.empty()) batch_up = (kind & 0x10) ? 1 : 0;
      Record rec;
      if (kind & 1) {
        rec = sealed_record(r, len, m, setup & 0x20);
      } else {
        if (len > 1) rec.bytes.assign(r + 1, r + len);
        rec.len = (kind & 0x20) ? wire::kMaxDatagramSize + 1 : rec.bytes.size();
      }
      rec.kind = kind;
      rec.from = source((kind >> 2) & 3);
      batch.push_back(std::move(rec));
      if (kind & 2) break;
    }
    if (batch.empty()) break;

    Uplink* up = w.uplinks[batch_up];
    g_now_ns += kBatchStepNs;
    Snapshot before = snapshot(w);
    int n = int(batch.size());
    for (int i = 0; i < n; ++i) {
      Datagram& d = w.worker->slot(i);
      const Record& rec = batch[size_t(i)];
      size_t copy = std::min(rec.bytes.size(), wire::kMaxDatagramSize);
      SAG_UNPOISON(d.data, wire::kMaxDatagramSize);
      if (copy) std::memcpy(d.data, rec.bytes.data(), copy);
      d.len = rec.len;
      d.peer = rec.from;
      // Past the datagram's end is off limits to the pipeline (a too-big one is never read).
      size_t valid = rec.len > wire::kMaxDatagramSize ? 0 : rec.len;
      SAG_POISON(d.data + valid, wire::kMaxDatagramSize - valid);
      model_datagram(m, batch_up, up->id, rec.bytes, rec.len, rec.from);
    }
    w.worker->process_batch(up, n);
    for (int i = 0; i < n; ++i) SAG_UNPOISON(w.worker->slot(i).data, wire::kMaxDatagramSize);
    check_batch(w, m, before, n);
    batch.clear();
  }
  return 0;
}
