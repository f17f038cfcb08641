/**
 * The operator CLI's view of the controller: the contract's HTTP client
 * (src/contract/client.ts) with the operator's defaults, and the hints a person
 * at a shell needs when it fails (which flag or variable sets the URL or the key).
 */
import { HttpControllerClient, type HttpMethod } from '../../contract/client.js';
import { ControllerRefusedError, ControllerUnreachableError } from '../../contract/errors.js';
import { encodeJoin, type Join } from '../../contract/join.js';
import type { ControllerTrust } from '../../contract/trust.js';
import { InvalidArgumentError } from '../../errors.js';
import { UsageError } from '../args.js';
import { API_KEY_SOURCES } from './api-key.js';

export const DEFAULT_CONTROLLER = 'http://127.0.0.1:8080';
/** Every operation is one small request; a minute without an answer means something is wrong. */
export const REQUEST_TIMEOUT_MS = 60_000;

/** Path segment from an id a person typed; encoding keeps "../x" from reaching another route. */
export const seg = (value: string): string => encodeURIComponent(value);

export class ApiClient {
  readonly #http: HttpControllerClient;
  readonly #apiKey: string | undefined;

  constructor(
    baseUrl: string,
    apiKey: string | undefined,
    trust: ControllerTrust = {},
    timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    this.#apiKey = apiKey || undefined;
    try {
      this.#http = new HttpControllerClient({
        url: baseUrl,
        trust,
        requestTimeoutMs: timeoutMs,
        ...(this.#apiKey === undefined ? {} : { token: this.#apiKey }),
      });
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      throw new UsageError(`${err.message} (expected e.g. ${DEFAULT_CONTROLLER})`);
    }
  }

  get baseUrl(): string {
    return this.#http.baseUrl;
  }

  /** A join string for a device or an access point of this controller, as this client reaches and trusts it. */
  async joinString(
    credential: { serial: string; code: string } | { id: string; token: string },
  ): Promise<string> {
    const caFingerprint = await this.#http.caFingerprint();
    const join: Join = { urls: [this.baseUrl], ...(caFingerprint ? { caFingerprint } : {}), ...credential };
    return encodeJoin(join);
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
  post<T>(path: string, body?: object): Promise<T> {
    return this.call<T>('POST', path, body);
  }
  put<T>(path: string, body?: object): Promise<T> {
    return this.call<T>('PUT', path, body);
  }
  patch<T>(path: string, body: object): Promise<T> {
    return this.call<T>('PATCH', path, body);
  }
  delete<T = undefined>(path: string): Promise<T> {
    return this.call<T>('DELETE', path);
  }

  async call<T>(method: HttpMethod, path: string, body?: object): Promise<T> {
    try {
      return await this.#http.request<T>(method, path, body === undefined ? {} : { body });
    } catch (err) {
      throw this.#withHint(err);
    }
  }

  #withHint(err: unknown): unknown {
    if (err instanceof ControllerUnreachableError && err.status === undefined) {
      return new ControllerUnreachableError(
        `${err.message}; is it running? Set --controller or SAG_CONTROLLER to its URL`,
        { cause: err },
      );
    }
    // Without a key the API's message is right but does not say how the CLI takes one.
    if (err instanceof ControllerRefusedError && err.status === 401 && this.#apiKey === undefined) {
      return new ControllerRefusedError(
        err.status,
        err.apiCode,
        `${err.apiMessage}; give one with ${API_KEY_SOURCES}`,
        err.retryAfterSec,
      );
    }
    return err;
  }
}

/**
 * One line for a failed command: what the controller said (its message and code)
 * when it said something, else the error's own message and code.
 */
export function failureLine(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; apiMessage?: unknown; apiCode?: unknown } | null;
  const message =
    typeof e?.apiMessage === 'string' ? e.apiMessage : err instanceof Error ? err.message : String(err);
  const code = typeof e?.apiCode === 'string' ? e.apiCode : e?.code;
  return `${message}${typeof code === 'string' ? ` (${code})` : ''}`;
}
