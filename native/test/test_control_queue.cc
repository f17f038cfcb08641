// The control queue under a flood (event_queue.h, probe.h): handshake datagrams cannot take the
// slots kept for the peers' events, probe answers are rate-capped per peer, and the receive
// thread never waits on a socket to answer one.
#include <atomic>
#include <cerrno>

#include "check.h"
#include "event_queue.h"
#include "pipeline_fixture.h"

using namespace sagtest;

namespace {
sag_event event(uint32_t type, uint32_t tag) {
  sag_event ev{};
  ev.type = type;
  ev.index = tag;
  ev.len = type == SAG_EVENT_CONTROL ? 148 : 0;
  for (uint32_t i = 0; i < ev.len; ++i) ev.data[i] = uint8_t(tag + i);
  return ev;
}

// Pushes: 'c' a CONTROL event, 'p' a peer event (PROBE_REPLY); '+' must be taken, '-' refused;
// 'x' pops one. pops: every tag popped, by 'x' and then draining (control 1xx, peer 2xx).
struct QueueCase {
  const char* name;
  size_t capacity;
  size_t reserved;  // what the queue must report (the constructor's default)
  const char* script;
  std::vector<uint32_t> pops;
};

const QueueCase kQueueCases[] = {
    {"1 one slot: nothing reserved, a handshake still gets through", 1, 0, "c+ c- p- ", {100}},
    {"2 two slots: one reserved for peer events", 2, 1, "c+ c- p+ p- ", {200, 100}},
    {"3 eight slots: a flood takes six, the peers keep two",
     8,
     2,
     "c+c+c+c+c+c+ c- c- p+ p+ p- c-",
     {200, 201, 100, 101, 102, 103, 104, 105}},
    {"4 peer events may use the whole queue; then handshakes wait",
     4,
     1,
     "p+p+p+p+ c- p-",
     {200, 201, 202, 203}},
    {"5 a pop frees a slot for either lane, peer lane first",
     4,
     1,
     "c+c+c+ c- x c+ p+",
     {100, 200, 101, 102, 103}},
    {"6 default reservation is 25% of a large queue", 1024, 256, "", {}},
};

void run_queue_case(const QueueCase& c) {
  EventQueue q(c.capacity);
  CHECK_EQ(q.reserved(), c.reserved);
  uint32_t tag_c = 100, tag_p = 200;
  std::vector<uint32_t> popped;
  sag_event out;
  int step = 0;
  for (const char* s = c.script; *s; ++s) {
    if (*s == ' ') continue;
    if (*s == 'x') {
      CHECK(q.pop(&out));
      popped.push_back(out.index);
      continue;
    }
    bool control = *s == 'c';
    sag_event ev = control ? event(SAG_EVENT_CONTROL, tag_c) : event(SAG_EVENT_PROBE_REPLY, tag_p);
    bool want = *++s == '+';
    bool got = q.push(ev);
    if (got != want)
      std::fprintf(stderr, "  %s: step %d (%c) %s\n", c.name, step, control ? 'c' : 'p',
                   got ? "taken" : "refused");
    CHECK_EQ(got, want);
    if (got) (control ? tag_c : tag_p)++;
    ++step;
  }
  while (q.pop(&out)) {
    popped.push_back(out.index);
    if (out.type == SAG_EVENT_CONTROL) {  // the payload travels with its event
      bool intact = out.len == 148;
      for (uint32_t i = 0; intact && i < out.len; ++i) intact = out.data[i] == uint8_t(out.index + i);
      CHECK(intact);
    }
  }
  CHECK(popped == c.pops);
  CHECK_EQ(q.size(), 0u);
}

// A socket whose batch send stalls (as a full buffer makes LinuxUdp wait) and whose send_now
// reports a full buffer: the receive thread must only ever call send_now.
class StallingUdp final : public UdpSocket {
 public:
  explicit StallingUdp(std::unique_ptr<MemoryUdp> inner) : inner_(std::move(inner)) {}
  int poll_fd() const override { return inner_->poll_fd(); }
  int recv_batch(Datagram* d, size_t cap, int n) override { return inner_->recv_batch(d, cap, n); }
  int send_batch(const Datagram*, int n, bool* ok) override {
    batch_calls.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int i = 0; ok && i < n; ++i) ok[i] = false;
    return 0;
  }
  bool send_now(const Datagram&) override {
    now_calls.fetch_add(1);
    errno = EAGAIN;
    return false;
  }
  Endpoint local() const override { return inner_->local(); }
  std::atomic<int> batch_calls{0}, now_calls{0};

 private:
  std::unique_ptr<MemoryUdp> inner_;
};

std::vector<uint8_t> probe_request(uint32_t path_id, uint64_t sequence) {
  std::vector<uint8_t> inner(wire::kProbeSize);
  wire::write_probe(inner.data(), wire::Probe{wire::kProbeRequest, path_id, sequence, 0});
  return inner;
}

// Sends n probe requests as A (counters from `first`) to B from `from`.
void send_requests(Pair& p, UdpSocket* from, uint64_t first, int n, const Endpoint& to) {
  for (int i = 0; i < n; ++i) {
    auto d = p.forge(probe_request(1, first + uint64_t(i)), first + uint64_t(i));
    Datagram g{d.data(), d.size(), to};
    from->send_batch(&g, 1, nullptr);
  }
}
}  // namespace

TEST_CASE("1 EventQueue: handshakes never take the reserved slots; peer events are popped first") {
  for (const QueueCase& c : kQueueCases) run_queue_case(c);
}

TEST_CASE("2 a handshake flood fills its lane; probe replies, confirmations and roaming still queue") {
  DataplaneConfig cfg;
  cfg.event_capacity = 8;  // 2 reserved
  Pair p(false, cfg);
  auto attacker = p.net.bind(ep4(198, 51, 100, 9, 1));
  std::vector<uint8_t> init(148, 0x5a);
  init[0] = 1;
  init[1] = init[2] = init[3] = 0;
  for (Node* n : {&p.a, &p.b}) {
    for (int i = 0; i < 100; ++i) {
      Datagram g{init.data(), init.size(), n->addr};
      attacker->send_batch(&g, 1, nullptr);
    }
    CHECK(wait_for([&] {
      auto c = n->uplink_counters();
      return c.rx_packets + c.drops[SAG_DROP_QUEUE_FULL] == 100;
    }));
    CHECK_EQ(n->uplink_counters().rx_packets, 6u);
  }
  // A's probe confirms B's responder keypair (an event at B) and its reply is an event at A. Data
  // from a new address then moves B's endpoint (another event at B).
  p.install_keys();
  CHECK(p.a.dp->send_probe(p.a.peer, p.a.uplink, p.b.addr, 3, 99).ok());
  CHECK(wait_for([&] { return p.a.peer_counters().rx_packets == 1; }));
  auto moved = p.net.bind(ep4(198, 51, 100, 4, 4444));
  auto data = p.forge(ipv4_packet(p.ip_a, p.ip_b, 64), 1000);
  Datagram g{data.data(), data.size(), p.b.addr};
  moved->send_batch(&g, 1, nullptr);
  CHECK(wait_for([&] { return p.b.peer_counters().rx_packets == 2; }));
  // Each node: its peer events first, then the six handshakes; nothing of the peers' was lost.
  auto expect = [](const std::vector<sag_event>& evs, std::vector<uint32_t> peer_types) {
    CHECK_EQ(evs.size(), peer_types.size() + 6);
    for (size_t i = 0; i < evs.size(); ++i)
      CHECK_EQ(evs[i].type, i < peer_types.size() ? peer_types[i] : uint32_t(SAG_EVENT_CONTROL));
  };
  auto a_evs = p.a.events();
  expect(a_evs, {SAG_EVENT_PROBE_REPLY});
  CHECK_EQ(a_evs[0].index, 3u);
  CHECK_EQ(wire::load_le64(a_evs[0].data), 99u);
  expect(p.b.events(), {SAG_EVENT_KEYPAIR_CONFIRMED, SAG_EVENT_ENDPOINT_CHANGED});
  CHECK_EQ(p.a.peer_counters().drops[SAG_DROP_QUEUE_FULL], 0u);
  CHECK_EQ(p.b.peer_counters().drops[SAG_DROP_QUEUE_FULL], 0u);
}

TEST_CASE("3 probe answers are capped per peer: the burst, then the rate; the rest rate_limited") {
  Pair p;
  p.b.dp->stop();
  g_now = 1000 * kMs;
  p.b.dp->set_clock(fake_clock);
  p.b.dp->start();
  auto prober = p.net.bind(ep4(198, 51, 100, 3, 3333));
  auto answered = [&] { return p.b.peer_counters().tx_keepalives; };
  auto limited = [&] { return p.b.peer_counters().drops[SAG_DROP_RATE_LIMITED]; };
  send_requests(p, prober.get(), 1, SAG_PROBE_REPLY_BURST + 20, p.b.addr);
  CHECK(wait_for([&] { return answered() + limited() == SAG_PROBE_REPLY_BURST + 20; }));
  CHECK_EQ(answered(), uint64_t(SAG_PROBE_REPLY_BURST));
  CHECK_EQ(limited(), 20u);
  g_now += 100 * kMs;  // a tenth of a second refills a tenth of the rate
  send_requests(p, prober.get(), 1000, 40, p.b.addr);
  CHECK(wait_for([&] { return answered() + limited() == SAG_PROBE_REPLY_BURST + 60; }));
  CHECK_EQ(answered(), uint64_t(SAG_PROBE_REPLY_BURST + SAG_PROBE_REPLY_RATE / 10));
  // Every request was authenticated: rx, and answered or dropped.
  CHECK_EQ(p.b.peer_counters().rx_packets, uint64_t(SAG_PROBE_REPLY_BURST + 60));
}

TEST_CASE("4 probe requests count against the peer's rx rate limit when it has one") {
  Pair p;
  p.b.dp->stop();
  g_now = 1000 * kMs;
  p.b.dp->set_clock(fake_clock);
  p.b.dp->start();
  // 1000 B/s with a burst of one MTU (1420): 59 probes of 24 bytes fit, not 60.
  CHECK(p.b.dp->set_rate_limit(p.b.peer, 1000, 1420).ok());
  auto prober = p.net.bind(ep4(198, 51, 100, 3, 3333));
  send_requests(p, prober.get(), 1, 60, p.b.addr);
  CHECK(wait_for([&] { return p.b.peer_counters().rx_packets == 60; }));
  CHECK(wait_for([&] { return p.b.peer_counters().drops[SAG_DROP_RATE_LIMITED] == 1; }));
  CHECK_EQ(p.b.peer_counters().tx_keepalives, 59u);
  // No limit: the reply cap alone applies.
  CHECK(p.b.dp->set_rate_limit(p.b.peer, 0, 0).ok());
  send_requests(p, prober.get(), 100, 3, p.b.addr);
  CHECK(wait_for([&] { return p.b.peer_counters().tx_keepalives == 62; }));
}

TEST_CASE("5 the receive thread answers probes without ever waiting on the socket") {
  Pair p;
  auto* stalling = new StallingUdp(p.net.bind(ep4(192, 0, 2, 2, 4000)));
  uint32_t second = 0;
  CHECK(p.b.dp->add_uplink(std::unique_ptr<UdpSocket>(stalling), &second).ok());
  auto prober = p.net.bind(ep4(198, 51, 100, 3, 3333));
  auto started = std::chrono::steady_clock::now();
  send_requests(p, prober.get(), 1, 20, ep4(192, 0, 2, 2, 4000));
  CHECK(wait_for([&] { return p.b.peer_counters().drops[SAG_DROP_IO_ERROR] == 20; }));
  auto took = std::chrono::steady_clock::now() - started;
  CHECK_EQ(stalling->now_calls.load(), 20);
  CHECK_EQ(stalling->batch_calls.load(), 0);
  CHECK(took < std::chrono::milliseconds(1000));  // 20 waits of 100 ms would be 2 s
  sag_counters up;
  p.b.dp->uplink_counters(second, &up);
  CHECK_EQ(up.drops[SAG_DROP_IO_ERROR], 20u);
  CHECK_EQ(up.tx_packets, 0u);
}

SAG_TEST_MAIN()
