/*
 * sag testing C API: the in-memory TUN double, for tests and fuzzers. Not part of the product
 * interface (sag.h); no production program includes this header.
 *
 * An in-memory TUN stands where a TUN device would: the test plays the host's IP stack, injecting
 * the packets the dataplane reads and taking the packets it writes. The rules of sag.h apply
 * (status codes, sag_last_error(), no exception crosses, one control thread).
 *
 * These functions are compiled into the one core library beside the product ones: the Node addon
 * that the TypeScript tests load is the product build, and a second build of the core only to add
 * four small functions would double the build. They are reachable only through this header.
 */
#ifndef SAG_SAG_TESTING_H
#define SAG_SAG_TESTING_H

#include "sag/sag.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Gives the dataplane (domain 0) an in-memory TUN instead of a device; before sag_dp_start(), as
 * sag_dp_open_tun(). A later sag_dp_open_tun() replaces it. */
int sag_dp_open_memory_tun(sag_dataplane* dp);

/* Adds a routing domain (see sag_dp_add_domain_tun) whose TUN is in memory. */
int sag_dp_add_memory_domain(sag_dataplane* dp, uint32_t* domain_out);

/* Host side of a domain's memory TUN (0: the dataplane's own). inject queues a packet for the
 * dataplane to read (SAG_EAGAIN: the queue is full); take returns the next packet the dataplane
 * wrote (SAG_EAGAIN: none; SAG_EINVAL: larger than cap). SAG_ESTATE when the domain has no
 * memory TUN (a device, none, or no such domain). */
int sag_dp_domain_memory_tun_inject(sag_dataplane* dp, uint32_t domain, const uint8_t* packet, size_t len);
int sag_dp_domain_memory_tun_take(sag_dataplane* dp, uint32_t domain, uint8_t* buf, size_t cap, size_t* len);

/* The same for domain 0. */
int sag_dp_memory_tun_inject(sag_dataplane* dp, const uint8_t* packet, size_t len);
int sag_dp_memory_tun_take(sag_dataplane* dp, uint8_t* buf, size_t cap, size_t* len);

#ifdef __cplusplus
}
#endif
#endif /* SAG_SAG_TESTING_H */
