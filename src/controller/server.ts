/**
 * `sag controller`: open the SQLite store, make sure an operator can get in,
 * serve the API. The CLI wraps this; tests and embedders may call it directly.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildControllerApp } from './api/index.js';
import type { Clock, ControllerLimits } from './api/index.js';
import type { AreaDefinition } from './model/index.js';
import {
  DEFAULT_AUDIT_RETENTION,
  DEFAULT_DB_MAX_BYTES,
  openSqliteStore,
  type ApiKeyInfo,
  type AuditRetention,
  type ControllerStore,
} from './store/index.js';

export interface StartControllerOptions {
  /** SQLite database file; its directory is created if missing. */
  dbPath: string;
  listen: { host: string; port: number };
  /**
   * Token to install as the first operator API key when the database has none
   * (e.g. from a secret manager); without it a random key is generated and printed.
   * Ignored once any active key exists.
   */
  bootstrapApiKey?: string;
  /** Area catalogue for a new database. */
  areas?: readonly AreaDefinition[];
  clock?: Clock;
  /** Fastify logging; on by default. */
  logger?: FastifyBaseLogger | boolean;
  /** Cap on the database file, bytes (default DEFAULT_DB_MAX_BYTES); past it writes get ERR_STORE_FULL. */
  maxDbBytes?: number;
  /** Audit entries kept (default DEFAULT_AUDIT_RETENTION). */
  auditRetention?: AuditRetention;
  /** Timeouts and caps per connection, source and principal (defaults: api/limits.ts). */
  limits?: Partial<ControllerLimits>;
  /** CIDRs of TLS proxies whose X-Forwarded-For is believed; see ControllerAppOptions. */
  trustedProxies?: readonly string[];
  /** Where the one-time bootstrap message goes; stdout by default (not the log, which may be shipped elsewhere). */
  print?: (text: string) => void;
}

export interface RunningController {
  /** "http://host:port" actually bound (port 0 picks a free one). */
  url: string;
  app: FastifyInstance;
  store: ControllerStore;
  /** Stops accepting requests, waits for those in flight, closes the store. */
  stop(): Promise<void>;
}

/**
 * Creates the first operator API key if there is none. The generated token is
 * printed exactly once: only its hash is stored, so it cannot be shown again.
 */
export async function ensureOperatorKey(
  store: ControllerStore,
  options: { bootstrapApiKey?: string; at: number; print: (text: string) => void },
): Promise<ApiKeyInfo | undefined> {
  if ((await store.countActiveApiKeys()) > 0) return undefined;
  const chosen = options.bootstrapApiKey;
  const { key, token } = await store.createApiKey(
    { name: 'bootstrap', ...(chosen === undefined ? {} : { token: chosen }) },
    { actor: 'bootstrap', at: options.at },
  );
  if (chosen === undefined) {
    options.print(
      `Created the first operator API key (${key.id}). It is shown only this once; store it now:\n\n  ${token}\n\n` +
        'Use it as "Authorization: Bearer <key>". Create more keys with POST /v1/api-keys.\n',
    );
  } else {
    options.print(`Installed the given bootstrap API key as the first operator key (${key.id}).\n`);
  }
  return key;
}

export async function startController(options: StartControllerOptions): Promise<RunningController> {
  const clock = options.clock ?? Date.now;
  const print = options.print ?? ((text: string) => void process.stdout.write(text));
  mkdirSync(dirname(options.dbPath), { recursive: true });
  const store = openSqliteStore({
    path: options.dbPath,
    maxSizeBytes: options.maxDbBytes ?? DEFAULT_DB_MAX_BYTES,
    auditRetention: options.auditRetention ?? DEFAULT_AUDIT_RETENTION,
    ...(options.areas ? { areas: options.areas } : {}),
  });
  let app: FastifyInstance | undefined;
  try {
    await ensureOperatorKey(store, {
      ...(options.bootstrapApiKey === undefined ? {} : { bootstrapApiKey: options.bootstrapApiKey }),
      at: clock(),
      print,
    });
    app = buildControllerApp({
      store,
      clock,
      logger: options.logger ?? true,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
    });
    const url = await app.listen({ host: options.listen.host, port: options.listen.port });
    const running = app;
    return {
      url,
      app: running,
      store,
      stop: async () => {
        await running.close();
        await store.close();
      },
    };
  } catch (err) {
    await app?.close();
    await store.close();
    throw err;
  }
}
