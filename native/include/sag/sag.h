/*
 * sag dataplane C API: the only public interface of the native core.
 *
 * A dataplane moves IP packets between one TUN device and a set of UDP sockets ("uplinks"),
 * encrypting them in WireGuard's transport format, entirely in native worker threads.
 * The control plane (handshakes, timers, path selection) drives it through this API.
 *
 * Rules:
 *  - Handles are opaque. Every function returns SAG_OK (0) or a negative sag_status; the reason as
 *    text is then available from sag_last_error() on the same thread until the next call.
 *  - No C++ exception crosses this boundary.
 *  - Functions that depend on time take it explicitly as `now_ns` (any monotonic clock in
 *    nanoseconds, the same one for all calls on a dataplane). The only clock the core reads is
 *    CLOCK_MONOTONIC in the workers, for peers that have a rate limit.
 *  - All functions are safe to call from one control thread while the workers run. Calls on one
 *    handle from several threads at once are serialised internally.
 *  - Byte strings (keys, addresses) are raw bytes; addresses in network byte order.
 */
#ifndef SAG_SAG_H
#define SAG_SAG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sag_dataplane sag_dataplane;

typedef enum sag_status {
  SAG_OK = 0,
  SAG_EINVAL = -1,    /* an argument is invalid */
  SAG_ENOENT = -2,    /* no such peer, keypair or uplink */
  SAG_EEXIST = -3,    /* already exists (public key, receiver index) */
  SAG_ESYS = -4,      /* a system call failed; see sag_last_error() */
  SAG_ESTATE = -5,    /* not allowed in the current state (e.g. started without a TUN) */
  SAG_ENOMEM = -6,    /* allocation failed */
  SAG_EAGAIN = -7,    /* nothing available now (event queue empty) */
  SAG_EINTERNAL = -8, /* unexpected internal failure */
  SAG_EUNREACH = -9   /* no route from this uplink to the destination (link down, address gone) */
} sag_status;

/* Drop reasons, counted per peer and per uplink (and globally for packets matching neither).
 * This list is the one source of their indexes and names: the enum below, sag_drop_reason_name()
 * and the TypeScript constants (tools/gen-native-facts.mjs) all derive from it. Append only. */
#define SAG_DROP_REASONS(X)                                                                            \
  X(BAD_AUTH, bad_auth)                     /* transport data whose tag did not authenticate */        \
  X(REPLAY, replay)                         /* counter already seen or too old for the window */       \
  X(NO_SESSION, no_session)                 /* no usable keypair: unknown index, expired, exhausted */ \
  X(SOURCE_NOT_ALLOWED, source_not_allowed) /* decrypted, but its source is outside the allowed IPs */ \
  X(NO_ROUTE, no_route)                     /* outbound packet whose destination matches no peer */    \
  X(QUEUE_FULL, queue_full)                 /* staged queue or control-event queue full */             \
  X(MALFORMED, malformed)                   /* not a well-formed WireGuard message or IP packet */     \
  X(TOO_BIG, too_big)                       /* larger than the MTU or the control message limit */     \
  X(NO_ENDPOINT, no_endpoint)               /* peer has no endpoint or its uplink is gone */           \
  X(IO_ERROR, io_error)                     /* the TUN or UDP write failed */                          \
  X(RATE_LIMITED, rate_limited)             /* over the peer's rate limit (sag_dp_set_rate_limit) */   \
  X(DUPLICATE, duplicate)                   /* a counter already accepted over another path */         \
  X(BAD_TYPE, bad_type)                     /* a well-formed header of a message type other than 1-4 */

#define SAG_DROP_ENUM_(upper, lower) SAG_DROP_##upper,
typedef enum sag_drop_reason { SAG_DROP_REASONS(SAG_DROP_ENUM_) SAG_DROP_REASON_COUNT } sag_drop_reason;
#undef SAG_DROP_ENUM_

/* Limits. Each is one integer literal: tools/gen-native-facts.mjs turns every `#define SAG_<NAME>
 * <integer>` of this header into a TypeScript constant, and the addon exports them as compiled. */
#define SAG_MIN_MTU 576               /* inner MTU: the IPv4 minimum datagram a host must accept */
#define SAG_MAX_MTU 65503             /* 65535 less the transport overhead (header and tag, 32) */
#define SAG_DEFAULT_MTU 1420          /* as WireGuard */
#define SAG_MAX_STAGED_CAPACITY 4096  /* packets held per peer while no session */
#define SAG_MAX_EVENT_CAPACITY 65536  /* control events queued for the control plane */
#define SAG_MAX_BATCH_SIZE 256        /* packets per batch in the workers */
#define SAG_MAX_TUN_QUEUES 16         /* queues of a Linux TUN */
#define SAG_MAX_RECEIVE_WORKERS 16    /* threads that decrypt a received batch */
#define SAG_MAX_RATE 1099511627776ull /* rate limit, bytes/s (2^40): keeps the token math in u64 */
#define SAG_MAX_BURST 1073741824ull   /* rate limit burst, bytes (2^30) */
#define SAG_MAX_CONTROL_MESSAGE 1500  /* a non-data message passed to the control plane */
/* Share of the event queue, in percent, that received handshake messages (unauthenticated) may
 * never take: it is kept for the peer events (probe replies, confirmations, roaming), so a flood of
 * handshake datagrams cannot crowd out what tells the control plane its paths are alive. */
#define SAG_EVENT_RESERVED_PERCENT 25
/* Probe requests a peer may have answered natively: per second, and in a burst. Beyond them the
 * request is dropped as rate_limited (8 paths probed every 100 ms need 80 a second). */
#define SAG_PROBE_REPLY_RATE 256
#define SAG_PROBE_REPLY_BURST 64

typedef struct sag_counters {
  /* Per peer: authenticated transport datagrams. Per uplink: those plus the control messages it
   * passed to the control plane. Bytes are UDP payload bytes. An authenticated datagram whose inner
   * packet is then refused counts as received and as a drop. */
  uint64_t rx_packets, rx_bytes;
  uint64_t tx_packets, tx_bytes;         /* datagrams sent, their UDP payload bytes */
  uint64_t rx_keepalives, tx_keepalives; /* of those, keepalives (empty payload) and path probes:
                                          * non-data messages, which the timers tell apart */
  uint64_t drops[SAG_DROP_REASON_COUNT];
} sag_counters;

/* An IPv4 or IPv6 address with a port. family is 4 or 6; for 4 only addr[0..3] is used. */
typedef struct sag_endpoint {
  uint8_t family;
  uint8_t addr[16];
  uint16_t port;
} sag_endpoint;

typedef struct sag_prefix {
  uint8_t family; /* 4 or 6 */
  uint8_t addr[16];
  uint8_t cidr;
} sag_prefix;

typedef struct sag_config {
  uint32_t mtu;             /* inner MTU, SAG_MIN_MTU..SAG_MAX_MTU; default SAG_DEFAULT_MTU */
  uint32_t staged_capacity; /* packets held per peer while no session, 1..4096; default 128 */
  uint32_t event_capacity;  /* control events queued for the control plane, 1..65536; default 1024 */
  uint32_t batch_size;      /* packets per batch in the workers, 1..256; default 64 */
  uint32_t tun_queues;      /* queues of a Linux TUN (sag_dp_open_tun), one send worker each, 1..16;
                                 0: $SAG_TUN_QUEUES, else the online CPUs capped at 4 */
  uint32_t receive_workers; /* threads that decrypt a received batch, the receive worker included,
                                 1..16 (each packet is still delivered in arrival order);
                                 0: $SAG_RX_WORKERS, else half the online CPUs, 1..4 */
} sag_config;

typedef struct sag_uplink_config {
  sag_endpoint bind; /* local address and port (port 0 picks one); family 6 with :: is dual-stack */
  char device[16];   /* SO_BINDTODEVICE name, empty for none */
  uint32_t fwmark;   /* SO_MARK, 0 for none */
} sag_uplink_config;

typedef struct sag_keypair_config {
  uint32_t local_index;  /* our receiver index: the peer puts it in messages to us */
  uint32_t remote_index; /* the peer's receiver index: we put it in messages to the peer */
  uint8_t send_key[32];
  uint8_t recv_key[32];
  uint8_t initiator; /* 1: becomes current at once; 0: waits as next until first data arrives */
} sag_keypair_config;

typedef enum sag_event_type {
  SAG_EVENT_CONTROL = 1,           /* a non-data message arrived: data/len/from/uplink_id are set */
  SAG_EVENT_HANDSHAKE_NEEDED = 2,  /* packets for peer_id are staged: no usable session */
  SAG_EVENT_KEYPAIR_CONFIRMED = 3, /* first data on a responder keypair: it became current (index) */
  SAG_EVENT_REKEY_NEEDED = 4,      /* the current keypair passed REKEY_AFTER_MESSAGES */
  SAG_EVENT_ENDPOINT_CHANGED = 5,  /* peer roamed: authenticated data came from a new address */
  SAG_EVENT_PROBE_REPLY = 6        /* a path probe was answered: index = path id, uplink_id, from,
                                   * data = sequence LE64 then round-trip time in ns LE64 (len 16) */
} sag_event_type;

typedef struct sag_event {
  uint32_t type;      /* sag_event_type */
  uint32_t peer_id;   /* 0 when not about a peer */
  uint32_t uplink_id; /* uplink it arrived on (CONTROL, ENDPOINT_CHANGED) */
  uint32_t index;     /* keypair local index (KEYPAIR_CONFIRMED) */
  sag_endpoint from;  /* source address (CONTROL, ENDPOINT_CHANGED) */
  uint32_t len;
  uint8_t data[SAG_MAX_CONTROL_MESSAGE];
} sag_event;

typedef struct sag_peer_info {
  uint32_t id;
  uint8_t public_key[32];
  uint8_t has_endpoint;
  sag_endpoint endpoint;
  uint32_t uplink_id;
  uint32_t current_index, previous_index, next_index; /* 0 when the slot is empty */
  uint32_t staged_packets;
  sag_counters counters;
} sag_peer_info;

/* Called from a worker thread when the event queue becomes non-empty. Keep it short: wake the
 * control thread, which then drains with sag_dp_poll_event(). */
typedef void (*sag_notify_fn)(void* ctx);

const char* sag_last_error(void);
const char* sag_drop_reason_name(int reason);

int sag_dp_create(const sag_config* config, sag_dataplane** out);
void sag_dp_destroy(sag_dataplane* dp); /* stops the workers, closes the TUN and sockets */
void sag_dp_set_notify(sag_dataplane* dp, sag_notify_fn fn, void* ctx);

/* TUN device (name may be empty for the kernel to choose; the chosen name is written back). One
 * per dataplane, before sag_dp_start(). */
int sag_dp_open_tun(sag_dataplane* dp, const char* name, char* name_out, size_t name_out_len);

int sag_dp_start(sag_dataplane* dp);
int sag_dp_stop(sag_dataplane* dp);

int sag_dp_add_uplink(sag_dataplane* dp, const sag_uplink_config* config, uint32_t* id_out,
                      sag_endpoint* bound_out);
int sag_dp_remove_uplink(sag_dataplane* dp, uint32_t uplink_id);
int sag_dp_uplink_counters(sag_dataplane* dp, uint32_t uplink_id, sag_counters* out);

int sag_dp_add_peer(sag_dataplane* dp, const uint8_t public_key[32], uint32_t* id_out);
int sag_dp_remove_peer(sag_dataplane* dp, uint32_t peer_id);
int sag_dp_set_endpoint(sag_dataplane* dp, uint32_t peer_id, const sag_endpoint* endpoint,
                        uint32_t uplink_id);
/* Replaces the peer's allowed IPs; a prefix owned by another peer moves to this one. */
int sag_dp_set_allowed_ips(sag_dataplane* dp, uint32_t peer_id, const sag_prefix* prefixes, size_t count);
/* Reads the peer's allowed IPs back: writes up to cap of them to buf (IPv4 first, each family in
 * ascending address order, host bits zero) and returns how many the peer has, which may be more
 * than cap (call again with a larger buffer), or < 0. buf may be NULL when cap is 0. */
int sag_dp_peer_allowed_ips(sag_dataplane* dp, uint32_t peer_id, sag_prefix* buf, size_t cap);
int sag_dp_peer_info(sag_dataplane* dp, uint32_t peer_id, sag_peer_info* out);

int sag_dp_install_keypair(sag_dataplane* dp, uint32_t peer_id, const sag_keypair_config* kp,
                           uint64_t now_ns);
int sag_dp_retire_keypair(sag_dataplane* dp, uint32_t local_index); /* keys are zeroed */
int sag_dp_expire_keypair(sag_dataplane* dp, uint32_t local_index); /* kept, but no longer used */
/* Marks every keypair installed before now_ns - max_age_ns as expired; returns how many, or < 0. */
int sag_dp_expire_older_than(sag_dataplane* dp, uint64_t now_ns, uint64_t max_age_ns);

/* Sends a control-plane message (handshake, cookie) as one datagram on an uplink. */
int sag_dp_send_control(sag_dataplane* dp, uint32_t uplink_id, const sag_endpoint* to, const uint8_t* data,
                        size_t len);
/* Asks the send worker to send a keepalive to the peer on its current keypair. */
int sag_dp_send_keepalive(sag_dataplane* dp, uint32_t peer_id);
/* Drops the packets staged for the peer (no session is coming); counted as no_session. Returns how
 * many, or < 0. */
int sag_dp_drop_staged(sag_dataplane* dp, uint32_t peer_id);

/* ---- Multipath (native/core/paths.h) ----
 * A selection table, installed per peer, routes each outbound packet natively: the first traffic
 * class whose rule matches the packet picks one or two of the table's paths. With no table, or
 * when no class matches or the chosen path's uplink is gone, the peer's roaming endpoint is used
 * exactly as in WireGuard. Installing a table replaces the previous one atomically. */
#define SAG_MAX_PATHS 8
#define SAG_MAX_CLASSES 16
#define SAG_MAX_CLASS_PREFIXES 8 /* address prefixes per side (source, destination) of a class */

typedef struct sag_path {
  uint32_t id;         /* the control plane's path id (any value, unique in the table) */
  uint32_t uplink_id;  /* the uplink (local socket) it leaves on */
  sag_endpoint remote; /* the peer's endpoint on this path */
} sag_path;

typedef enum sag_select_mode {
  SAG_SELECT_SINGLE = 0,   /* every packet on path_index[0] */
  SAG_SELECT_WEIGHTED = 1, /* per flow (5-tuple hash) over path_index[0..path_count) by weight */
  SAG_SELECT_DUPLICATE = 2 /* sealed once, sent on path_index[0] and path_index[1] */
} sag_select_mode;

typedef struct sag_traffic_class {
  /* Rule: every constraint given must match. dscp_mask bit n set: DSCP n matches (0: any DSCP);
   * protocol 0: any; a port range applies when its max is non-zero (TCP, UDP, SCTP, UDP-Lite);
   * src/dst prefixes apply when their count is non-zero: the packet's address must lie in one of
   * them, of the packet's own family (an IPv4 prefix never matches an IPv6 packet, and a packet
   * that is not IP, such as a keepalive, matches no address rule). Host bits must be zero. */
  uint64_t dscp_mask;
  uint8_t protocol;
  uint16_t src_port_min, src_port_max;
  uint16_t dst_port_min, dst_port_max;
  uint8_t mode;                      /* sag_select_mode */
  uint8_t path_count;                /* 1..SAG_MAX_PATHS (DUPLICATE: exactly 2) */
  uint8_t path_index[SAG_MAX_PATHS]; /* indexes into sag_selection.paths */
  uint32_t weight[SAG_MAX_PATHS];    /* WEIGHTED: weights, each 1..65535; ignored otherwise */
  uint8_t src_prefix_count;          /* 0..SAG_MAX_CLASS_PREFIXES; 0: any source address */
  uint8_t dst_prefix_count;          /* 0..SAG_MAX_CLASS_PREFIXES; 0: any destination address */
  sag_prefix src_prefixes[SAG_MAX_CLASS_PREFIXES];
  sag_prefix dst_prefixes[SAG_MAX_CLASS_PREFIXES];
} sag_traffic_class;

typedef struct sag_selection {
  uint32_t path_count; /* 0..SAG_MAX_PATHS */
  sag_path paths[SAG_MAX_PATHS];
  uint32_t class_count; /* 0..SAG_MAX_CLASSES; first match wins */
  sag_traffic_class classes[SAG_MAX_CLASSES];
} sag_selection;

/* Installs (or with NULL removes) the peer's selection table. */
int sag_dp_set_selection(sag_dataplane* dp, uint32_t peer_id, const sag_selection* selection);
/* Sends an authenticated probe request (a transport message under the peer's current session whose
 * plaintext is not an IP packet, see wire.h) on the uplink to the endpoint. The peer echoes it on the
 * path it came by; the reply yields SAG_EVENT_PROBE_REPLY. Probe timestamps are the one place the
 * core reads a clock (CLOCK_MONOTONIC): the RTT must not include the control plane's latency.
 * SAG_ESTATE when the peer has no usable session; SAG_EUNREACH when the kernel has no route for it
 * (a local failure the control plane may act on at once). A probe never moves the peer's endpoint. */
int sag_dp_send_probe(sag_dataplane* dp, uint32_t peer_id, uint32_t uplink_id, const sag_endpoint* to,
                      uint32_t path_id, uint64_t sequence);

/* Routing domains. A dataplane starts with domain 0 (its own TUN and allowed IPs); each added
 * domain has its own TUN device and allowed-IPs table, and a peer belongs to exactly one domain
 * (0 unless moved). Packets read from a domain's TUN are routed only to that domain's peers;
 * packets from a peer are source-checked against and written to its domain only. Prefixes may
 * overlap across domains. Domains may be added and removed while running; removing one that
 * still has peers is SAG_ESTATE. Domain ids are never reused. */
int sag_dp_add_domain_tun(sag_dataplane* dp, const char* name, char* name_out, size_t name_out_len,
                          uint32_t* domain_out);
int sag_dp_remove_domain(sag_dataplane* dp, uint32_t domain);
/* Moves the peer (and its allowed IPs) into the domain. */
int sag_dp_set_peer_domain(sag_dataplane* dp, uint32_t peer_id, uint32_t domain);

/* Limits the peer's inner traffic to bytes_per_s with a burst of burst_bytes (>= the MTU), in
 * each direction separately (TUN -> peer before encryption, peer -> TUN after decryption).
 * Excess packets are dropped and counted as SAG_DROP_RATE_LIMITED. bytes_per_s 0 removes it. */
int sag_dp_set_rate_limit(sag_dataplane* dp, uint32_t peer_id, uint64_t bytes_per_s, uint64_t burst_bytes);

int sag_dp_poll_event(sag_dataplane* dp, sag_event* out);  /* SAG_EAGAIN when empty */
int sag_dp_counters(sag_dataplane* dp, sag_counters* out); /* global: packets matching no peer */

#ifdef __cplusplus
}
#endif
#endif /* SAG_SAG_H */
