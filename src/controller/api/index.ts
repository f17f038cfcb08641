/** The controller HTTP API. */
export {
  buildControllerApp,
  controllerRoutes,
  API_VERSION,
  BODY_LIMIT,
  type ControllerAppOptions,
} from './app.js';
export { buildOpenApiDocument, openapiPath } from './openapi.js';
export {
  toHttpError,
  UnauthenticatedError,
  ForbiddenError,
  RequestValidationError,
  RateLimitedError,
  type HttpError,
} from './errors.js';
export { ModelChangeFeed } from './feed.js';
export {
  AttemptLimiter,
  DEFAULT_ACTIVATION_LIMITS,
  type ActivationLimits,
  type LimitRule,
} from './limiter.js';
export { HEARTBEAT_EVERY_MS, SOFTWARE_VERSION_EVERY_MS } from './routes-agent.js';
export {
  DEFAULT_CONTROLLER_LIMITS,
  LONG_POLL_MAX_SEC,
  controllerLimits,
  type ControllerLimits,
} from './limits.js';
export {
  STATUS_LIST_MAX,
  STATUS_PATHS_MAX,
  STATUS_RTT_MAX_MS,
  type DeviceStatusReport,
  type PathReport,
  type PeerStatusReport,
  type ProbeReport,
} from './status.js';
export type { RouteSpec, AuthMode, Principal, Clock } from './route.js';
