export { Gateway } from './gateway.js';
export { systemClock } from './clock.js';
export type * from './types.js';
export type { PeerEndpoint, UplinkSpec, UplinkStatus } from './multipath.js';
