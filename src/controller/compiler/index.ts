/**
 * Public surface of the configuration compiler: pure functions from a model state
 * to what each branch device and each access point must run, content-versioned.
 * The shapes it produces, their versions and their diff are the contract's
 * (src/contract/).
 */
export * from './types.js';
export * from './errors.js';
export {
  DEFAULT_OVERLAY_POOL,
  allocateTunnelAddresses,
  resolvePools,
  type OverlayPool,
} from './addresses.js';
export { DEFAULT_PERSISTENT_KEEPALIVE_SEC, compileDeviceConfig } from './compile-device.js';
export { compileAccessPointConfig } from './compile-access-point.js';
