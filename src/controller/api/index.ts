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
export { DEFAULT_CONTROLLER_LIMITS, controllerLimits, type ControllerLimits } from './limits.js';
export type { RouteSpec, AuthMode, Principal, Clock } from './route.js';
