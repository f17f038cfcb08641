/**
 * `sag controller`: the controller in the foreground until SIGINT or SIGTERM.
 * Human lines (where it listens, a generated key) go to stdout; the request
 * log goes to stderr, one line per request, so the two can be routed apart.
 */
import { resolve } from 'node:path';
import { format } from 'node:util';
import type { FastifyBaseLogger } from 'fastify';
import { SagError } from '../../errors.js';
import { DEFAULT_CONTROLLER_LIMITS, type ControllerLimits } from '../../controller/api/limits.js';
import {
  DAY_MS,
  DEFAULT_AUDIT_RETENTION,
  DEFAULT_DB_MAX_BYTES,
  MIB,
  type AuditRetention,
} from '../../controller/store/limits.js';
import { UsageError, parseArgs, type FlagSpec, type ParsedArgs } from '../args.js';
import { apiKeyFlags, readApiKey } from './api-key.js';
import type { OperatorIo, Output } from './command.js';

export const DEFAULT_DB = './sag-controller.db';
export const DEFAULT_LISTEN = '127.0.0.1:8080';
const CMD = 'sag controller';

export const CONTROLLER_SUMMARY =
  'run the controller (HTTP API and store) in the foreground until SIGINT or SIGTERM';

/** Flag, placeholder, help, the limit it sets and the limit's units per flag unit. */
const LIMIT_FLAGS: [string, string, string, keyof ControllerLimits, number][] = [
  ['request-timeout', 'SECONDS', 'time a client has to send a whole request', 'requestTimeoutMs', 1000],
  [
    'connection-timeout',
    'SECONDS',
    'idle connections are closed after this; above the 30 s long poll',
    'connectionTimeoutMs',
    1000,
  ],
  ['max-connections', 'N', 'open connections in all', 'maxConnections', 1],
  [
    'max-connections-per-source',
    'N',
    'open connections per client address (IPv6: per /64); trusted proxies are exempt',
    'maxConnectionsPerSource',
    1,
  ],
  ['status-reports-per-minute', 'N', 'status reports per device per minute', 'statusReportsPerMinute', 1],
  [
    'status-store-every',
    'SECONDS',
    'a status report with nothing new replaces the stored one at most this often',
    'statusStoreEveryMs',
    1000,
  ],
  [
    'long-polls-per-principal',
    'N',
    'configuration long polls one device or access point may have waiting',
    'longPollsPerPrincipal',
    1,
  ],
];

/** The limits given on the command line; each must be a whole number >= 1. */
function limitsFrom(args: ParsedArgs): Partial<ControllerLimits> {
  const limits: Partial<ControllerLimits> = {};
  for (const [name, , , key, scale] of LIMIT_FLAGS) {
    const value = args.int(name);
    if (value === undefined) continue;
    if (value < 1) throw new UsageError(`--${name} must be at least 1, got ${value}`, CMD);
    limits[key] = value * scale;
  }
  return limits;
}

/** The database cap and audit retention given on the command line. */
function storeLimitsFrom(args: ParsedArgs): { maxDbBytes?: number; auditRetention: AuditRetention } {
  const positive = (name: string): number | undefined => {
    const value = args.int(name);
    if (value !== undefined && value < 1)
      throw new UsageError(`--${name} must be at least 1, got ${value}`, CMD);
    return value;
  };
  const mb = positive('db-max-mb');
  const entries = positive('audit-max-entries');
  const days = positive('audit-max-age-days');
  return {
    ...(mb === undefined ? {} : { maxDbBytes: mb * MIB }),
    auditRetention: {
      maxEntries: entries ?? DEFAULT_AUDIT_RETENTION.maxEntries,
      maxAgeMs: days === undefined ? DEFAULT_AUDIT_RETENTION.maxAgeMs : days * DAY_MS,
    },
  };
}

export const controllerFlags: FlagSpec[] = [
  {
    name: 'db',
    kind: 'string',
    value: 'PATH',
    help: `SQLite database file, created if missing (default ${DEFAULT_DB})`,
  },
  {
    name: 'listen',
    kind: 'string',
    value: 'HOST:PORT',
    help: `address to serve the API on; port 0 picks a free one (default ${DEFAULT_LISTEN})`,
  },
  ...apiKeyFlags(
    'file holding the token to install as the first operator API key of a database that has none (default $SAG_API_KEY; else one is generated and printed once)',
  ),
  {
    name: 'tls-cert',
    kind: 'string',
    value: 'FILE',
    help: "serve this certificate chain (PEM, leaf first, its CA last); default: a certificate from the controller's own CA, kept in the database",
  },
  { name: 'tls-key', kind: 'string', value: 'FILE', help: 'the private key of --tls-cert (PEM)' },
  {
    name: 'public-name',
    kind: 'list',
    value: 'NAME',
    help: 'a DNS name or address clients reach the controller by, for its own certificate (repeatable)',
  },
  {
    name: 'insecure-http',
    kind: 'bool',
    help: 'serve plain HTTP instead of HTTPS; only on a loopback --listen address',
  },
  { name: 'quiet', kind: 'bool', help: 'log only warnings and errors, not every request' },
  {
    name: 'db-max-mb',
    kind: 'int',
    value: 'MB',
    help: `cap on the database file; past it writes fail with ERR_STORE_FULL (default ${DEFAULT_DB_MAX_BYTES / MIB})`,
  },
  {
    name: 'audit-max-entries',
    kind: 'int',
    value: 'N',
    help: `audit log entries kept, newest first (default ${DEFAULT_AUDIT_RETENTION.maxEntries})`,
  },
  {
    name: 'audit-max-age-days',
    kind: 'int',
    value: 'DAYS',
    help: `audit log entries older than this are dropped (default ${DEFAULT_AUDIT_RETENTION.maxAgeMs / DAY_MS})`,
  },
  {
    name: 'trusted-proxy',
    kind: 'list',
    value: 'CIDR',
    help: 'a TLS proxy in front of the controller: only requests from it have their X-Forwarded-For believed (repeatable; default none)',
  },
  ...LIMIT_FLAGS.map(([name, value, help, key, scale]): FlagSpec => ({
    name,
    kind: 'int',
    value,
    help: `${help} (default ${DEFAULT_CONTROLLER_LIMITS[key] / scale})`,
  })),
];

/** "host:port", "[v6]:port" or a bare port (on the default host). */
export function parseListen(raw: string): { host: string; port: number } {
  const m =
    /^\[([^\]]+)\]:([0-9]+)$/.exec(raw) ?? /^([^:[\]]+):([0-9]+)$/.exec(raw) ?? /^()([0-9]+)$/.exec(raw);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535)
    throw new UsageError(
      `--listen ${JSON.stringify(raw)} must be HOST:PORT, e.g. ${DEFAULT_LISTEN} or [::1]:8080`,
      CMD,
    );
  return { host: m[1] || DEFAULT_LISTEN.split(':')[0]!, port };
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
type Level = keyof typeof LEVELS;

/** One readable line for a pino-style call (obj?, msg?, ...args); undefined to skip it. */
function describe(first: unknown, rest: unknown[]): string | undefined {
  if (typeof first === 'string') return format(first, ...rest);
  const msg = typeof rest[0] === 'string' ? format(rest[0], ...rest.slice(1)) : '';
  if (first instanceof Error) return `${msg || first.message}\n${first.stack ?? ''}`;
  // The completion line names the request too, with status and time; logging both doubles the log.
  if (msg === 'incoming request') return undefined;
  const obj = (first ?? {}) as {
    res?: { statusCode?: number; request?: { method?: string; url?: string } };
    responseTime?: number;
    err?: unknown;
  };
  const req = obj.res?.request;
  if (req) return `${req.method} ${req.url} ${obj.res?.statusCode} ${(obj.responseTime ?? 0).toFixed(1)} ms`;
  if (obj.err instanceof Error) return `${msg}: ${obj.err.stack ?? obj.err.message}`;
  return msg;
}

/**
 * A minimal Fastify logger writing lines to an Output. startController's own
 * default is pino JSON on process.stdout, which fits log shipping but not a
 * person watching a terminal, and would bypass the io the CLI was given.
 */
export function lineLogger(
  out: Output,
  level: Level,
  bindings: Record<string, unknown> = {},
): FastifyBaseLogger {
  const emit =
    (at: Level) =>
    (first?: unknown, ...rest: unknown[]) => {
      if (LEVELS[at] < LEVELS[level]) return;
      const text = describe(first, rest);
      if (text === undefined) return;
      const id = bindings['reqId'] === undefined ? '' : `${String(bindings['reqId'])} `;
      out.write(`${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} ${id}${text}\n`);
    };
  const logger = {
    level,
    trace: emit('trace'),
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    fatal: emit('fatal'),
    silent: () => {},
    child: (more: Record<string, unknown>) => lineLogger(out, level, { ...bindings, ...more }),
  };
  // pino's LogFn is a set of generic overloads; the implementation above accepts all of them.
  return logger as unknown as FastifyBaseLogger;
}

/**
 * The first of SIGINT/SIGTERM. Both handlers go after the first signal, so a
 * second one takes Node's default (exit) and can force a stop that hangs.
 */
function nextSignal(): { signal: Promise<NodeJS.Signals>; cancel(): void } {
  let on: (signal: NodeJS.Signals) => void = () => {};
  const cancel = () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  const signal = new Promise<NodeJS.Signals>((resolvePromise) => {
    on = (got) => {
      cancel();
      resolvePromise(got);
    };
  });
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return { signal, cancel };
}

export async function runController(
  argv: string[],
  io: OperatorIo,
  globals: FlagSpec[],
): Promise<number | 'help'> {
  const args = parseArgs(argv, [], [...controllerFlags, ...globals], CMD);
  if (args.bool('help')) return 'help';
  const dbPath = resolve(args.string('db') ?? DEFAULT_DB);
  const listen = parseListen(args.string('listen') ?? DEFAULT_LISTEN);
  const bootstrapApiKey = readApiKey(args, io, CMD);
  const limits = limitsFrom(args);
  const storeLimits = storeLimitsFrom(args);
  const trustedProxies = args.list('trusted-proxy');
  const certFile = args.string('tls-cert');
  const keyFile = args.string('tls-key');
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError('--tls-cert and --tls-key go together', CMD);
  if (args.bool('insecure-http') && certFile !== undefined)
    throw new UsageError('--insecure-http and --tls-cert exclude each other', CMD);
  // Listen for signals before starting, so one arriving during startup is not lost.
  const stopOn = nextSignal();
  let running;
  try {
    // Loaded here, not at the top: every `sag` command imports this module, and
    // only this one needs Fastify and the SQLite addon.
    const { startController } = await import('../../controller/server.js');
    running = await startController({
      dbPath,
      listen,
      ...(bootstrapApiKey ? { bootstrapApiKey } : {}),
      ...storeLimits,
      limits,
      trustedProxies,
      ...(certFile && keyFile ? { tls: { certFile: resolve(certFile), keyFile: resolve(keyFile) } } : {}),
      publicNames: args.list('public-name'),
      insecureHttp: args.bool('insecure-http'),
      logger: lineLogger(io.stderr, args.bool('quiet') ? 'warn' : 'info'),
      print: (text) => void io.stdout.write(text),
    });
  } catch (err) {
    stopOn.cancel();
    if (err instanceof SagError) throw err;
    // e.g. EADDRINUSE, EACCES on the database directory: say what was being attempted.
    throw new SagError(
      'ERR_CONTROLLER_START',
      `cannot start the controller on ${listen.host}:${listen.port} with ${dbPath}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  io.stdout.write(`sag controller listening on ${running.url} (database ${dbPath})\n`);
  const got = await stopOn.signal;
  io.stdout.write(`sag controller: ${got}, stopping\n`);
  await running.stop();
  io.stdout.write('sag controller: stopped\n');
  return 0;
}
