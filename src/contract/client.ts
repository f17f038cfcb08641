/**
 * The one HTTP client of the controller's API, shared by the device agent, the
 * access point and the operator CLI, and the two views of it that the agent and
 * the access point depend on (so tests and other transports can stand in).
 *
 * Every failure is sorted for the caller's retry logic: where waiting may help
 * (no connection, timeout, 5xx, 408, something that is not our API answering)
 * it is ControllerUnreachableError; any other 4xx is ControllerRefusedError.
 * Both carry the API's stable error code and message when it sent them. The
 * caller's own abort is passed through as is: it is not an outage.
 *
 * Everything about reaching the controller (URL, credential, timeouts, how the
 * server is trusted: trust.ts) is in the options object and used in #send alone.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { InvalidArgumentError } from '../errors.js';
import type { AccessPointConfig, DeviceConfig } from './config.js';
import { ControllerRefusedError, ControllerUnreachableError, type ControllerAnswer } from './errors.js';
import type { DeviceStatusReport } from './status.js';
import {
  ControllerUntrustedError,
  checkPlainHttp,
  isCertificateError,
  parseFingerprint,
  pemFingerprint,
  pinnedCaFromChain,
  presentedCaFingerprint,
  readPeerChain,
  type ControllerTrust,
} from './trust.js';
import type { ConfigAnswer, ConfigQuery } from './version.js';

/** The device agent's view of the controller. */
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

/** The access point's view of the controller. */
export interface AccessPointClient {
  /** GET /v1/access-points/{id}/config with the access point's token, long-polling like getConfig. */
  getAccessPointConfig(
    id: string,
    token: string,
    query?: ConfigQuery,
  ): Promise<ConfigAnswer<AccessPointConfig>>;
}

export interface HttpControllerClientOptions {
  /** Base URL of the controller API, e.g. "https://controller.example:8443". */
  url: string;
  /** Bearer credential for calls that bring none of their own: an operator API key. */
  token?: string;
  /** Per-request limit beyond any long-poll wait, ms (default 15 s). */
  requestTimeoutMs?: number;
  /** How an https:// controller is verified; the system CAs by default. */
  trust?: ControllerTrust;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  /** Overrides the client's credential for this call. */
  token?: string;
  signal?: AbortSignal;
  /** How long the controller may hold the answer (a long poll), added to the request timeout, ms. */
  waitMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export class HttpControllerClient implements ControllerClient, AccessPointClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #pin: string | undefined;
  /** The CA PEM requests trust: the given one, or the pinned one once found (cached). */
  #ca: string | undefined;

  constructor(options: HttpControllerClientOptions) {
    this.baseUrl = controllerBaseUrl(options.url);
    this.#token = options.token;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const fingerprint = options.trust?.caFingerprint;
    this.#pin = fingerprint === undefined ? undefined : parseFingerprint(fingerprint);
    this.#ca = options.trust?.caPem;
    if (this.#ca !== undefined) pemFingerprint(this.#ca); // refuses a file with no certificate now
  }

  async activate(
    input: { serial: string; code: string; publicKey: string },
    signal?: AbortSignal,
  ): Promise<{ token: string }> {
    const body = await this.request<{ token?: unknown } | undefined>('POST', '/v1/activate', {
      body: input,
      ...(signal ? { signal } : {}),
    });
    if (typeof body?.token !== 'string')
      throw new ControllerUnreachableError('the controller answered the activation without a token');
    return { token: body.token };
  }

  getConfig(serial: string, token: string, query: ConfigQuery = {}): Promise<ConfigAnswer> {
    return this.#longPoll<DeviceConfig>(
      `/v1/devices/${encodeURIComponent(serial)}/config`,
      'device',
      token,
      query,
    );
  }

  getAccessPointConfig(
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

  async reportStatus(
    serial: string,
    token: string,
    report: DeviceStatusReport,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.request('POST', `/v1/devices/${encodeURIComponent(serial)}/status`, {
      token,
      body: report,
      ...(signal ? { signal } : {}),
    });
  }

  /** One call of the API: its parsed JSON answer (undefined for an empty body), or one of the errors above. */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const { status, headers, text } = await this.#send(method, path, options);
    const json = parseJson(text);
    if (status >= 200 && status < 300 && (text === '' || json !== undefined)) return json as T;
    const answer = describeAnswer(this.baseUrl, method, path, status, text, json);
    if (status < 400 || status >= 500 || status === 408) {
      throw new ControllerUnreachableError(
        `${method} ${path}: ${status} ${answer.apiCode}: ${answer.apiMessage}`,
        { answer },
      );
    }
    const retryAfter = Number(headers.get('retry-after'));
    throw new ControllerRefusedError(
      status,
      answer.apiCode,
      answer.apiMessage,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }

  async #longPoll<C>(
    base: string,
    kind: 'device' | 'accessPoint',
    token: string,
    query: ConfigQuery,
  ): Promise<ConfigAnswer<C>> {
    const params = new URLSearchParams();
    const waits = query.after !== undefined && query.waitSec !== undefined;
    if (query.after !== undefined) params.set('after', query.after);
    if (waits) params.set('wait', String(Math.max(0, Math.floor(query.waitSec!))));
    const body = await this.request<Record<string, unknown> | undefined>(
      'GET',
      `${base}${params.size > 0 ? `?${params}` : ''}`,
      { token, waitMs: waits ? query.waitSec! * 1000 : 0, ...(query.signal ? { signal: query.signal } : {}) },
    );
    if (body?.['unchanged'] === true) return { kind: 'unchanged', version: String(body['version']) };
    if (body?.['kind'] !== kind || typeof body['version'] !== 'string') {
      throw new ControllerUnreachableError(
        `the controller answered with something that is not ${kind === 'device' ? 'a device' : 'an access point'} configuration`,
      );
    }
    return { kind: 'config', config: body as unknown as C };
  }

  /** The transport: the only place that reaches the controller. */
  async #send(
    method: HttpMethod,
    path: string,
    options: RequestOptions,
  ): Promise<{ status: number; headers: Headers; text: string }> {
    const limitMs = this.#timeoutMs + (options.waitMs ?? 0);
    const timeout = AbortSignal.timeout(limitMs);
    const signal = options.signal ? anySignal(options.signal, timeout) : timeout;
    const token = options.token ?? this.#token;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = new URL(`${this.baseUrl}${path}`);
    try {
      const ca = url.protocol === 'https:' ? await this.#trustedCa() : undefined;
      return await exchange(url, { method, headers, signal, ...(ca ? { ca } : {}) }, body);
    } catch (cause) {
      if (options.signal?.aborted) throw cause;
      if (cause instanceof ControllerUntrustedError) throw cause;
      if (timeout.aborted) {
        throw new ControllerUnreachableError(
          `the controller at ${this.baseUrl} did not answer within ${limitMs / 1000} s`,
          { cause },
        );
      }
      if (isCertificateError(cause)) throw await this.#untrusted(url, cause);
      throw new ControllerUnreachableError(
        `cannot reach the controller at ${this.baseUrl} (${socketReason(cause)})`,
        { cause },
      );
    }
  }

  /**
   * The fingerprint a device should pin for this controller: the pinned one, the
   * given CA's, or that of the last certificate the server presents (verified by
   * the system CAs on every request). Undefined over plain http://.
   */
  async caFingerprint(): Promise<string | undefined> {
    const url = new URL(this.baseUrl);
    if (url.protocol !== 'https:') return undefined;
    if (this.#pin !== undefined) return this.#pin;
    if (this.#ca !== undefined) return pemFingerprint(this.#ca);
    return presentedCaFingerprint(url, this.#timeoutMs);
  }

  /** With a pin: the pinned CA from the server's chain, found once before anything is sent. */
  async #trustedCa(): Promise<string | undefined> {
    if (this.#ca !== undefined || this.#pin === undefined) return this.#ca;
    const url = new URL(this.baseUrl);
    this.#ca = pinnedCaFromChain(await readPeerChain(url, this.#timeoutMs), this.#pin, this.baseUrl);
    return this.#ca;
  }

  /** The verification failure, with what was expected and what the server presented. */
  async #untrusted(url: URL, cause: unknown): Promise<ControllerUntrustedError> {
    const seen = await presentedCaFingerprint(url, this.#timeoutMs);
    const expected =
      this.#pin !== undefined
        ? `under CA ${this.#pin}`
        : `issued by ${this.#ca === undefined ? 'a system CA' : `CA ${pemFingerprint(this.#ca)}`}`;
    return new ControllerUntrustedError(
      `cannot verify the controller at ${this.baseUrl} (${(cause as Error).message}): expected a certificate ${expected}, the server presented CA ${seen ?? '(unknown)'}; if that is your controller's, pass --ca-fingerprint ${seen ?? 'sha256:<hex>'}; nothing was sent`,
      seen === undefined ? [] : [seen],
      { cause },
    );
  }
}

/** One HTTP(S) request and its whole answer. */
function exchange(
  url: URL,
  options: { method: string; headers: Record<string, string>; signal: AbortSignal; ca?: string },
  body: string | undefined,
): Promise<{ status: number; headers: Headers; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers))
          if (typeof value === 'string') headers.set(name, value);
        resolve({ status: res.statusCode ?? 0, headers, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The URL without trailing slashes; refuses what is not an http(s) URL. */
function controllerBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new InvalidArgumentError(`the controller URL ${JSON.stringify(text)} is not a URL`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(
      `the controller URL must be http:// or https://, got ${JSON.stringify(text)}`,
    );
  checkPlainHttp(url);
  return url.href.replace(/\/+$/, '');
}

/** The API's {error: {code, message}} when the body has one, else what answered and how. */
function describeAnswer(
  baseUrl: string,
  method: string,
  path: string,
  status: number,
  text: string,
  json: unknown,
): ControllerAnswer {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === 'string' && typeof error.message === 'string')
    return { status, apiCode: error.code, apiMessage: error.message };
  const notJson = text !== '' && json === undefined;
  return {
    status,
    apiCode: `ERR_HTTP_${status}`,
    apiMessage: notJson
      ? `${baseUrl} answered ${method} ${path} with HTTP ${status} and a body that is not JSON; is it a sag controller?`
      : `${baseUrl} answered ${method} ${path} with HTTP ${status}`,
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The useful part of a socket error: its code (ECONNREFUSED, ENOTFOUND, a TLS check), else its message. */
function socketReason(err: unknown): string {
  const e = err as
    { code?: unknown; message?: string; cause?: { code?: unknown; message?: unknown } } | undefined;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  if (typeof e?.cause?.message === 'string') return e.cause.message;
  return e?.message ?? String(err);
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
