/**
 * The controller's HTTP API as a Fastify app, built around a ControllerStore
 * and a clock. It never opens a socket itself: server.ts listens, tests use
 * `app.inject`.
 *
 * Validation: Fastify's Ajv defaults are changed on purpose. `removeAdditional`
 * would silently drop unknown fields (a typo such as "bandwithMbps" would be
 * ignored instead of refused) and `coerceTypes` would turn "5" into 5; both
 * hide client bugs, so both are off and the schemas reject instead.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { ControllerStore } from '../store/index.js';
import { authenticate, authorize } from './auth.js';
import { describeValidationError, toHttpError } from './errors.js';
import { buildOpenApiDocument } from './openapi.js';
import { makeDeps, type ApiRequest, type AuthMode, type Clock, type Principal, type RouteSpec } from './route.js';
import { adminRoutes } from './routes-admin.js';
import { deviceRoutes } from './routes-devices.js';
import { edgeRoutes } from './routes-edge.js';
import { networkRoutes } from './routes-network.js';

/** Version of the API contract in the OpenAPI document, not of the package. */
export const API_VERSION = '1.0.0';

/** Largest request body; the biggest legitimate one (an instance with 64 LANs and 16 uplinks) is a few KiB. */
export const BODY_LIMIT = 64 * 1024;

export interface ControllerAppOptions {
  store: ControllerStore;
  /** Milliseconds since the epoch; stamps audit entries and credentials. */
  clock: Clock;
  /** A pino-compatible logger, or true for Fastify's default one. Off by default. */
  logger?: FastifyBaseLogger | boolean;
}

/** Every route the app serves, for the OpenAPI document and for tests. */
export function controllerRoutes(options: Pick<ControllerAppOptions, 'store' | 'clock'>): RouteSpec[] {
  const deps = makeDeps(options.store, options.clock);
  const specs: RouteSpec[] = [];
  let document: object | undefined;
  const openapi = () => (document ??= buildOpenApiDocument(specs, { version: API_VERSION }));
  specs.push(...adminRoutes(deps, openapi), ...edgeRoutes(deps), ...deviceRoutes(deps), ...networkRoutes(deps));
  return specs;
}

export function buildControllerApp(options: ControllerAppOptions): FastifyInstance {
  const { store, logger } = options;
  const app = Fastify({
    ...(typeof logger === 'object' ? { loggerInstance: logger } : { logger: logger ?? false }),
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => new Error(errors.map((e) => describeValidationError(e, dataVar)).join('; ')),
  }) as unknown as FastifyInstance;

  // A WeakMap rather than a request decoration: no global type augmentation, nothing left behind.
  const principals = new WeakMap<FastifyRequest, Principal>();

  app.addHook('onRequest', async (req) => {
    const mode = (req.routeOptions.config as { auth?: AuthMode } | undefined)?.auth;
    if (mode === undefined || mode === 'public') return; // unknown routes fall through to the 404 handler
    const principal = await authenticate(store, req.headers.authorization);
    authorize(mode, principal, req.params as Record<string, string>);
    principals.set(req, principal);
  });

  app.setErrorHandler((err, req, reply) => {
    const http = toHttpError(err);
    if (http.internal) req.log.error({ err }, 'request failed');
    if (http.status === 401) void reply.header('www-authenticate', 'Bearer realm="sag"');
    void reply.code(http.status).send(http.body);
  });

  app.setNotFoundHandler((req, reply) => {
    const url = req.url.length > 200 ? `${req.url.slice(0, 200)}...` : req.url;
    void reply.code(404).send({ error: { code: 'ERR_ROUTE_NOT_FOUND', message: `no route ${req.method} ${url}` } });
  });

  for (const spec of controllerRoutes(options)) {
    app.route({
      method: spec.method,
      url: spec.url,
      schema: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.querystring ? { querystring: spec.querystring } : {}),
        ...(spec.body ? { body: spec.body } : {}),
      },
      config: { auth: spec.auth },
      handler: async (req, reply) => {
        const input: ApiRequest = {
          params: req.params as Record<string, string>,
          query: req.query as Record<string, string | undefined>,
          body: (req.body ?? {}) as Record<string, unknown>,
          principal: principals.get(req) ?? null,
        };
        const result = await spec.handler(input);
        if (spec.status === 204) return reply.code(204).send();
        return reply.code(spec.status).send(result);
      },
    });
  }
  return app;
}
