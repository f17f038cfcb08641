/** The controller HTTP API. */
export { buildControllerApp, controllerRoutes, API_VERSION, BODY_LIMIT, type ControllerAppOptions } from './app.js';
export { buildOpenApiDocument, openapiPath } from './openapi.js';
export { toHttpError, UnauthenticatedError, ForbiddenError, RequestValidationError, type HttpError } from './errors.js';
export { deviceConfig } from './routes-devices.js';
export type { RouteSpec, AuthMode, Principal, Clock } from './route.js';
