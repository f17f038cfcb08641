export { Gateway } from './gateway.js';
export type * from './types.js';
export type { PeerEndpoint, UplinkPolicy, UplinkSpec, UplinkStatus } from './multipath.js';
export type { LinkSource } from './link-watch.js';
