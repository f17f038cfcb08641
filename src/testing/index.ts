/**
 * sag/testing: test doubles as real modules beside the product, for tests and fuzzers (as
 * wireguard-go's tun/tuntest). The product entry point (`sag`) names none of them; it only has the
 * seams they plug into (TunOpener for the TUN of a Dataplane or a Gateway).
 */
export { memoryTun, tunInject, tunTake } from './memory-tun.js';
