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
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Socket } from 'node:net';
import { addressIn, parseCidrList } from '../../net/source.js';
import type { CompileOptions } from '../compiler/index.js';
import type { ControllerStore } from '../store/index.js';
import { authenticate, authorize } from './auth.js';
import { RateLimitedError, describeValidationError, toHttpError } from './errors.js';
import { guardConnections } from './connections.js';
import { ModelChangeFeed } from './feed.js';
import { controllerLimits, type ControllerLimits } from './limits.js';
import type { ActivationLimits } from './limiter.js';
import { buildOpenApiDocument } from './openapi.js';
import {
  makeDeps,
  type ApiRequest,
  type AuthMode,
  type Clock,
  type Principal,
  type RouteSpec,
} from './route.js';
import { adminRoutes } from './routes-admin.js';
import { agentRoutes } from './routes-agent.js';
import { accessPointRoutes } from './routes-access-point.js';
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
  /** Overlay pools and keepalive for the device configurations served (compiler defaults otherwise). */
  compile?: CompileOptions;
  /** Activation attempt limits per serial and per source address; see limiter.ts. */
  activationLimits?: ActivationLimits;
  /** How often waiting long polls look for writes made by other processes, ms (default 1000). */
  storeCheckMs?: number;
  /** Timeouts and caps per connection, source and principal; see limits.ts for the defaults. */
  limits?: Partial<ControllerLimits>;
  /**
   * Peers (CIDRs or addresses) whose X-Forwarded-For is believed: a TLS proxy in
   * front of the controller. Requests from anywhere else are keyed by the socket
   * peer and their X-Forwarded-For is ignored, so a client cannot pick its own
   * source address for the per-source limits. None by default.
   */
  trustedProxies?: readonly string[];
  /** Serve HTTPS with this key and certificate chain (PEM); plain HTTP without. */
  https?: { key: string; cert: string };
}

type RoutesOptions = Pick<
  ControllerAppOptions,
  'store' | 'clock' | 'compile' | 'activationLimits' | 'limits'
> & {
  feed?: ModelChangeFeed;
};

/** Every route the app serves, for the OpenAPI document and for tests. */
export function controllerRoutes(options: RoutesOptions): RouteSpec[] {
  const feed = options.feed ?? new ModelChangeFeed(options.store);
  const deps = makeDeps({ ...options, feed });
  const specs: RouteSpec[] = [];
  let document: object | undefined;
  const openapi = () => (document ??= buildOpenApiDocument(specs, { version: API_VERSION }));
  specs.push(
    ...adminRoutes(deps, openapi),
    ...edgeRoutes(deps),
    ...deviceRoutes(deps),
    ...agentRoutes(deps),
    ...accessPointRoutes(deps),
    ...networkRoutes(deps),
  );
  return specs;
}

export function buildControllerApp(options: ControllerAppOptions): FastifyInstance {
  const { store, logger } = options;
  const limits = controllerLimits(options.limits);
  const trusted = parseCidrList(options.trustedProxies ?? [], 'trusted proxy');
  const app = Fastify({
    ...(typeof logger === 'object' ? { loggerInstance: logger } : { logger: logger ?? false }),
    ...(options.https ? { https: options.https } : {}),
    bodyLimit: BODY_LIMIT,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    http: {
      // Node checks request timeouts every 30 s by default, letting a slow client stay
      // up to twice its time; a check over the open connections each second is cheap.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.requestTimeoutMs / 4))),
      headersTimeout: limits.requestTimeoutMs,
    },
    // proxy-addr walks X-Forwarded-For from the socket peer back while each hop is trusted.
    ...(trusted.length > 0 ? { trustProxy: (address: string) => addressIn(address, trusted) } : {}),
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
    schemaErrorFormatter: (errors, dataVar) =>
      new Error(errors.map((e) => describeValidationError(e, dataVar)).join('; ')),
    // Errors Fastify raises before routing (over-long or badly encoded parameters) get our format too.
    frameworkErrors: (err, _req, reply) => {
      const http = toHttpError(err);
      void (reply as unknown as FastifyReply).code(http.status).send(http.body);
    },
  }) as unknown as FastifyInstance;

  // A WeakMap rather than a request decoration: no global type augmentation, nothing left behind.
  const principals = new WeakMap<FastifyRequest, Principal>();
  const feed = new ModelChangeFeed(store, options.storeCheckMs);
  let closing = false;
  // Connections that have not sent a byte yet: a client (undici, say) that opened one and
  // then gave up its request keeps it for seconds, and close() would wait for that.
  const fresh = new Set<Socket>();
  guardConnections(app.server, limits, trusted);
  // Under TLS the request bytes arrive on the TLS socket, not on the TCP one beneath.
  app.server.on(options.https ? 'secureConnection' : 'connection', (socket: Socket) => {
    fresh.add(socket);
    socket.once('data', () => fresh.delete(socket));
    socket.once('close', () => fresh.delete(socket));
  });
  // Long polls would hold close() up for their whole wait; answer them now instead.
  app.addHook('preClose', async () => {
    closing = true;
    feed.close();
    for (const socket of fresh) socket.destroy();
  });
  // A request answered during shutdown would leave a keep-alive connection that
  // close() then waits on until the client drops it; tell the client to drop it now.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
  });

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
    if (err instanceof RateLimitedError) void reply.header('retry-after', String(err.retryAfterSec));
    void reply.code(http.status).send(http.body);
  });

  app.setNotFoundHandler((req, reply) => {
    const url = req.url.length > 200 ? `${req.url.slice(0, 200)}...` : req.url;
    void reply
      .code(404)
      .send({ error: { code: 'ERR_ROUTE_NOT_FOUND', message: `no route ${req.method} ${url}` } });
  });

  for (const spec of controllerRoutes({ ...options, feed })) {
    app.route({
      method: spec.method,
      url: spec.url,
      schema: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.querystring ? { querystring: spec.querystring } : {}),
        ...(spec.body ? { body: spec.body } : {}),
      },
      config: { auth: spec.auth },
      // Runs before validation, so a body left out is validated (and handled) as {}.
      ...(spec.optionalBody ? { preValidation: async (req: FastifyRequest) => void (req.body ??= {}) } : {}),
      handler: async (req, reply) => {
        const closed = new AbortController();
        // The response's 'close' (not the request's) fires when the client hangs up mid-wait.
        reply.raw.once('close', () => closed.abort());
        const input: ApiRequest = {
          params: req.params as Record<string, string>,
          query: req.query as Record<string, string | undefined>,
          body: (req.body ?? {}) as Record<string, unknown>,
          principal: principals.get(req) ?? null,
          ip: req.ip,
          signal: closed.signal,
        };
        const result = await spec.handler(input);
        if (spec.status === 204) return reply.code(204).send();
        return reply.code(spec.status).send(result);
      },
    });
  }
  return app;
}
