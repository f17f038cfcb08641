/** The WireGuard cross-platform userspace API (wireguard.com/xplatform): pure parsing and printing. */
export * from './errors.js';
export * from './keys.js';
export * from './types.js';
export { parseSetRequest, formatSetRequest } from './set.js';
export { formatGetReply, formatErrorReply, parseGetReply } from './get.js';
export { applySetCommand, emptyDevice } from './apply.js';
export * from './framer.js';
export { formatStatsReply, parseStatsReply, STATS_OP, type DropCounts, type UapiStats } from './stats.js';
export { GatewayUapiDevice } from './gateway-device.js';
export { UapiServer, UapiSocketInUseError, uapiSocketPath, UAPI_DIR, type UapiDevice } from './server.js';
export {
  formatGoAddr,
  formatGoEndpoint,
  formatGoPrefix,
  parseUapiEndpoint,
  parseUapiPrefix,
  splitHostPort,
} from './text.js';
