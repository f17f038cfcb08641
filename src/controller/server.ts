/**
 * `sag controller`: open the SQLite store, make sure an operator can get in,
 * serve the API. The CLI wraps this; tests and embedders may call it directly.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildControllerApp } from './api/index.js';
import type { Clock, ControllerLimits } from './api/index.js';
import {
  DEFAULT_AUDIT_RETENTION,
  DEFAULT_DB_MAX_BYTES,
  openSqliteStore,
  type ApiKeyInfo,
  type AuditRetention,
  type ControllerStore,
} from './store/index.js';
import { isLoopbackHost, splitPem } from '../contract/trust.js';
import { InvalidArgumentError } from '../errors.js';
import type { AreaDefinition } from './model/index.js';
import { identityFromFiles, serverNames, storedIdentity, type ServingIdentity } from './tls.js';

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
  /** The operator's own certificate chain (leaf first) and key; without, the controller's own CA issues one. */
  tls?: { certFile: string; keyFile: string };
  /** Names (DNS or IP) clients reach this controller by, besides the listen address; for its own certificate. */
  publicNames?: readonly string[];
  /** Plain HTTP instead of HTTPS; refused unless the listen address is loopback. */
  insecureHttp?: boolean;
  /** Where the one-time bootstrap message goes; stdout by default (not the log, which may be shipped elsewhere). */
  print?: (text: string) => void;
}

export interface RunningController {
  /** "https://host:port" (http:// with insecureHttp) actually bound (port 0 picks a free one). */
  url: string;
  /** What clients pin ("sha256:<hex>" of the CA certificate), and that CA (PEM); undefined over plain HTTP. */
  caFingerprint: string | undefined;
  caPem: string | undefined;
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
  if (options.insecureHttp && !isLoopbackHost(options.listen.host))
    throw new InvalidArgumentError(
      `refusing plain HTTP on ${options.listen.host}: tokens and codes would cross the network in clear; it is allowed on a loopback address only`,
    );
  if (options.insecureHttp && options.tls)
    throw new InvalidArgumentError('plain HTTP and a TLS certificate exclude each other');
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
    let identity: ServingIdentity | undefined;
    if (options.tls) identity = identityFromFiles(options.tls.certFile, options.tls.keyFile);
    else if (!options.insecureHttp)
      identity = await storedIdentity(
        store,
        serverNames(options.listen.host, options.publicNames ?? []),
        clock(),
      );
    if (identity) print(`CA fingerprint: ${identity.caFingerprint}\n`);
    app = buildControllerApp({
      store,
      clock,
      logger: options.logger ?? true,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
      ...(identity ? { https: { key: identity.keyPem, cert: identity.certPem } } : {}),
    });
    const url = await app.listen({ host: options.listen.host, port: options.listen.port });
    const running = app;
    return {
      url,
      caFingerprint: identity?.caFingerprint,
      caPem: identity && lastCertificate(identity.certPem),
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

function lastCertificate(pem: string): string | undefined {
  return splitPem(pem).pop();
}
