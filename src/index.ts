/** Public exports of sag: what an agent or a firmware's control program imports. */
export * from './errors.js';
export { Dataplane } from './dataplane/index.js';
export type * from './dataplane/types.js';
export { Gateway } from './gateway/index.js';
export type * from './gateway/types.js';
export { parseConfig, formatConfig, ConfigError } from './config/index.js';
export type { WgQuickConfig } from './config/index.js';
export { UapiServer, GatewayUapiDevice, uapiSocketPath } from './uapi/index.js';
export * as wg from './wg/index.js';
export { systemClock, type Clock } from './util/clock.js';
export type { Logger, LogLevel } from './util/logger.js';
