/**
 * Routes are data: one RouteSpec both registers a Fastify route and produces
 * its OpenAPI operation, so the document lists exactly what is served.
 */
import type { CompileOptions } from '../compiler/index.js';
import type {
  CollectionName,
  Collections,
  Command,
  CommandInput,
  CommandKind,
  ModelState,
} from '../model/index.js';
import type { ApplyOutcome, ControllerStore } from '../store/index.js';
import type { ModelChangeFeed } from './feed.js';
import {
  AttemptLimiter,
  ConcurrencyLimiter,
  DEFAULT_ACTIVATION_LIMITS,
  type ActivationLimits,
} from './limiter.js';
import { controllerLimits, type ControllerLimits } from './limits.js';
import type { JsonSchema, ObjectSchema } from './schemas.js';

/**
 * public:   no credential (health, OpenAPI document, activation).
 * operator: an operator API key.
 * device:   an operator API key, or the token of the device named by the `serial` path parameter.
 */
export type AuthMode = 'public' | 'operator' | 'device' | 'accessPoint';

export type Principal =
  | { kind: 'operator'; keyId: string; name: string }
  | { kind: 'device'; serial: string }
  | { kind: 'accessPoint'; id: string };

export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: Record<string, unknown>;
  principal: Principal | null;
  /** The client's address: the socket peer, or the X-Forwarded-For client when the peer is a trusted proxy. */
  ip: string;
  /** Fires when the client goes away or the server shuts down; long polls stop waiting. */
  signal: AbortSignal;
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify syntax, "/v1/instances/:id". */
  url: string;
  operationId: string;
  summary: string;
  tag: string;
  auth: AuthMode;
  params?: ObjectSchema;
  querystring?: ObjectSchema;
  body?: ObjectSchema;
  /** The body may be left out entirely; it is then validated as `{}`. */
  optionalBody?: boolean;
  /** Success status; 204 sends no body. */
  status: 200 | 201 | 204;
  /** Response body schema (documentation only, see entities.ts). */
  response?: JsonSchema;
  /** Model refusals (and other 4xx) this operation can answer with, for the document. */
  errors?: number[];
  handler: (req: ApiRequest) => Promise<unknown>;
}

export type Clock = () => number;

/** What route handlers need; built once per app. */
export interface RouteDeps {
  store: ControllerStore;
  clock: Clock;
  /** Wakes long-polling configuration requests; every apply through `apply` notifies it. */
  feed: ModelChangeFeed;
  /** Overlay pools and keepalive for compiling device configurations. */
  compile: CompileOptions;
  limits: {
    perSerial: AttemptLimiter;
    perSource: AttemptLimiter;
    /** Status reports per device serial. */
    statusReports: AttemptLimiter;
    /** Waiting long polls per principal (its audit actor). */
    longPolls: ConcurrencyLimiter;
    /** See ControllerLimits.statusStoreEveryMs. */
    statusStoreEveryMs: number;
  };
  state(): Promise<ModelState>;
  /** One collection sorted by key, with the model version it was read at (one snapshot). */
  list<C extends CollectionName>(collection: C): Promise<{ version: number; items: Collections[C][] }>;
  /**
   * Applies a command as the request's principal. `affectsConfigs: false` promises the
   * command cannot change a compiled configuration (a heartbeat), so no long poll wakes.
   */
  apply(req: ApiRequest, input: CommandInput, options?: { affectsConfigs?: boolean }): Promise<ApplyOutcome>;
  actor(req: ApiRequest): { actor: string; at: number };
}

export interface DepsOptions {
  store: ControllerStore;
  clock: Clock;
  feed: ModelChangeFeed;
  compile?: CompileOptions;
  activationLimits?: ActivationLimits;
  limits?: Partial<ControllerLimits>;
}

export function makeDeps(options: DepsOptions): RouteDeps {
  const { store, clock, feed } = options;
  const limits = options.activationLimits ?? DEFAULT_ACTIVATION_LIMITS;
  const caps = controllerLimits(options.limits);
  const actor = (req: ApiRequest) => {
    const p = req.principal;
    const who =
      p === null
        ? 'anonymous'
        : p.kind === 'operator'
          ? `apikey:${p.keyId}`
          : p.kind === 'device'
            ? `device:${p.serial}`
            : `accessPoint:${p.id}`;
    return { actor: who, at: clock() };
  };
  return {
    store,
    clock,
    feed,
    compile: options.compile ?? {},
    limits: {
      perSerial: new AttemptLimiter(limits.perSerial),
      perSource: new AttemptLimiter(limits.perSource),
      statusReports: new AttemptLimiter({ attempts: caps.statusReportsPerMinute, windowMs: 60_000 }),
      longPolls: new ConcurrencyLimiter(caps.longPollsPerPrincipal),
      statusStoreEveryMs: caps.statusStoreEveryMs,
    },
    state: () => store.load(),
    list: async (collection) => {
      const state = await store.load();
      const record = state[collection] as Record<string, Collections[typeof collection]>;
      return {
        version: state.version,
        items: Object.keys(record)
          .sort()
          .map((k) => record[k]!),
      };
    },
    apply: async (req, input, opts = {}) => {
      const out = await store.apply(input, actor(req));
      if (out.changes.length > 0) feed.notify(out.version, opts.affectsConfigs ?? true);
      return out;
    },
    actor,
  };
}

/**
 * Builds a command from a validated body. The body's fields are spread first so
 * `kind` (and any path parameters given after) always win over the body.
 */
export function command<K extends CommandKind>(kind: K, ...parts: object[]): CommandInput {
  return Object.assign({}, ...parts, { kind }) as CommandInput;
}

/** The entity a command wrote, read from the state it produced. */
export function written<T>(state: ModelState, collection: keyof ModelState, key: string): T {
  return (state[collection] as Record<string, T>)[key] as T;
}

/** Id of the entity a create command made (generated or chosen). */
export function createdId(cmd: Command): string {
  return (cmd as { id: string }).id;
}
