/**
 * The agent's view of the controller: three calls, and an HTTP implementation of
 * them over fetch. The interface is what the Agent depends on, so tests and other
 * transports can stand in for HTTP.
 *
 * Errors are sorted for the caller's retry logic: anything where waiting may help
 * (no connection, timeout, 5xx) is ControllerUnreachableError; a 4xx is
 * ControllerRefusedError with the API's stable error code.
 */
import type { AccessPointConfig, DeviceConfig } from '../controller/compiler/index.js';
import type { DeviceStatusReport } from '../controller/api/status.js';
import { ControllerRefusedError, ControllerUnreachableError } from './errors.js';

export type ConfigAnswer<C = DeviceConfig> =
  { kind: 'config'; config: C } | { kind: 'unchanged'; version: string };

export interface ConfigQuery {
  /** Content version the agent runs; with `waitSec` the controller holds the answer until it differs. */
  after?: string;
  waitSec?: number;
  signal?: AbortSignal;
}

export interface ControllerClient {
  /** POST /v1/activate: no credential, the code is one. Returns the device token. */
  activate(
    input: { serial: string; code: string; publicKey: string },
    signal?: AbortSignal,
  ): Promise<{ token: string }>;
  /** GET /v1/devices/{serial}/config, long-polling when `after` and `waitSec` are given. */
  getConfig(serial: string, token: string, query?: ConfigQuery): Promise<ConfigAnswer>;
  /** POST /v1/devices/{serial}/status. */
  reportStatus(
    serial: string,
    token: string,
    report: DeviceStatusReport,
    signal?: AbortSignal,
  ): Promise<void>;
}

export interface HttpControllerClientOptions {
  /** Injected for tests; the global fetch by default. */
  fetch?: typeof fetch;
  /** Per-request limit beyond any long-poll wait, ms (default 15 s). */
  requestTimeoutMs?: number;
}

export class HttpControllerClient implements ControllerClient {
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, options: HttpControllerClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch (cause) {
      throw new TypeError(`controller URL ${JSON.stringify(baseUrl)} is not a URL`, { cause });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError(`controller URL ${baseUrl} must be http: or https:`);
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.requestTimeoutMs ?? 15_000;
  }

  async activate(
    input: { serial: string; code: string; publicKey: string },
    signal?: AbortSignal,
  ): Promise<{ token: string }> {
    const body = (await this.#call('POST', '/v1/activate', { body: input, signal })) as { token?: unknown };
    if (typeof body?.token !== 'string')
      throw new ControllerUnreachableError('the controller answered the activation without a token');
    return { token: body.token };
  }

  async getConfig(serial: string, token: string, query: ConfigQuery = {}): Promise<ConfigAnswer> {
    return this.#longPoll<DeviceConfig>(
      `/v1/devices/${encodeURIComponent(serial)}/config`,
      'device',
      token,
      query,
    );
  }

  /** GET /v1/access-points/{id}/config with the access point's token (`sag ap`), long-polling like getConfig. */
  async getAccessPointConfig(
    id: string,
    token: string,
    query: ConfigQuery = {},
  ): Promise<ConfigAnswer<AccessPointConfig>> {
    return this.#longPoll<AccessPointConfig>(
      `/v1/access-points/${encodeURIComponent(id)}/config`,
      'accessPoint',
      token,
      query,
    );
  }

  async #longPoll<C>(
    base: string,
    kind: string,
    token: string,
    query: ConfigQuery,
  ): Promise<ConfigAnswer<C>> {
    const params = new URLSearchParams();
    if (query.after !== undefined) params.set('after', query.after);
    if (query.after !== undefined && query.waitSec !== undefined)
      params.set('wait', String(Math.max(0, Math.floor(query.waitSec))));
    const path = `${base}${params.size > 0 ? `?${params}` : ''}`;
    const waitMs = query.after !== undefined && query.waitSec !== undefined ? query.waitSec * 1000 : 0;
    const body = (await this.#call('GET', path, {
      token,
      signal: query.signal,
      extraTimeoutMs: waitMs,
    })) as Record<string, unknown>;
    if (body?.['unchanged'] === true) return { kind: 'unchanged', version: String(body['version']) };
    if (body?.['kind'] !== kind || typeof body['version'] !== 'string') {
      throw new ControllerUnreachableError(
        `the controller answered with something that is not ${kind === 'device' ? 'a device' : 'an access point'} configuration`,
      );
    }
    return { kind: 'config', config: body as unknown as C };
  }

  async reportStatus(
    serial: string,
    token: string,
    report: DeviceStatusReport,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#call('POST', `/v1/devices/${encodeURIComponent(serial)}/status`, {
      token,
      body: report,
      signal,
    });
  }

  async #call(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; signal?: AbortSignal | undefined; extraTimeoutMs?: number },
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.#timeoutMs + (opts.extraTimeoutMs ?? 0));
    const signal = opts.signal ? anySignal(opts.signal, timeout) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        signal,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
    } catch (cause) {
      // The caller's own abort is not an outage; let it through as is.
      if (opts.signal?.aborted) throw cause;
      const why = timeout.aborted ? 'timed out' : describe(cause);
      throw new ControllerUnreachableError(`${method} ${this.baseUrl}${path}: ${why}`, { cause });
    }
    const text = await res.text().catch(() => '');
    const json = parseJson(text);
    if (res.ok) return json;
    const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${res.status}`;
    const message = typeof error?.message === 'string' ? error.message : res.statusText;
    if (res.status >= 500 || res.status === 408) {
      throw new ControllerUnreachableError(`${method} ${path}: ${res.status} ${code}: ${message}`, {
        status: res.status,
      });
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new ControllerRefusedError(
      res.status,
      code,
      message,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
}

/** AbortSignal.any where it exists (Node >= 20.3); the same by hand before that. */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  const any = (AbortSignal as { any?: (signals: AbortSignal[]) => AbortSignal }).any;
  if (any) return any.call(AbortSignal, [a, b]);
  const both = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) both.abort(s.reason);
    else s.addEventListener('abort', () => both.abort(s.reason), { once: true });
  }
  return both.signal;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** undici hides the socket error ("ECONNREFUSED") in `cause`; that is the useful part. */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  return err instanceof Error ? err.message : String(err);
}
