/**
 * A thin client for the controller's HTTP API over Node's global fetch. It
 * turns every way a call can fail into one SagError whose message a person can
 * act on: the API's own {error: {code, message}}, an unreachable controller
 * (naming the URL tried), a timeout, or something that is not our API answering.
 */
import { SagError } from '../../errors.js';
import { UsageError } from './args.js';

/** The controller refused the request; `code` is the API's stable error code. */
export class ApiError extends SagError {
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(code, message);
    this.status = status;
  }
}

/** No answer from the controller at all: refused, unresolvable, timed out. */
export class ControllerUnreachableError extends SagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONTROLLER_UNREACHABLE', message, options);
  }
}

export const DEFAULT_CONTROLLER = 'http://127.0.0.1:8080';
/** Every operation is one small request; a minute without an answer means something is wrong. */
export const REQUEST_TIMEOUT_MS = 60_000;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Path segment from an id a person typed; encoding keeps "../x" from reaching another route. */
export const seg = (value: string): string => encodeURIComponent(value);

export class ApiClient {
  readonly baseUrl: string;
  constructor(
    baseUrl: string,
    private readonly apiKey: string | undefined,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new UsageError(
        `the controller URL ${JSON.stringify(baseUrl)} is not a URL (expected e.g. ${DEFAULT_CONTROLLER})`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UsageError(`the controller URL must be http:// or https://, got ${JSON.stringify(baseUrl)}`);
    this.baseUrl = baseUrl.replace(/\/+$/, '');
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

  async call<T>(method: Method, path: string, body?: object): Promise<T> {
    const url = this.baseUrl + path;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey) headers['authorization'] = `Bearer ${this.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw this.unreachable(err);
    }
    if (res.status === 204) return undefined as T;
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ApiError(
        `ERR_HTTP_${res.status}`,
        `${this.baseUrl} answered ${method} ${path} with HTTP ${res.status} and a body that is not JSON; is it a sag controller?`,
        res.status,
      );
    }
    if (res.ok) return parsed as T;
    throw this.refusal(res.status, method, path, parsed);
  }

  private refusal(status: number, method: Method, path: string, body: unknown): ApiError {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
      return new ApiError(
        `ERR_HTTP_${status}`,
        `${this.baseUrl} answered ${method} ${path} with HTTP ${status}`,
        status,
      );
    }
    // Without a key the API's message is right but does not say how the CLI takes one.
    const hint = status === 401 && !this.apiKey ? '; pass --api-key or set SAG_API_KEY' : '';
    return new ApiError(error.code, error.message + hint, status);
  }

  private unreachable(err: unknown): ControllerUnreachableError {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
      return new ControllerUnreachableError(
        `the controller at ${this.baseUrl} did not answer within ${this.timeoutMs / 1000} s`,
        { cause: err },
      );
    }
    // fetch reports "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND) is in the cause.
    const why = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
    return new ControllerUnreachableError(
      `cannot reach the controller at ${this.baseUrl} (${why}); is it running? Set --controller or SAG_CONTROLLER to its URL`,
      { cause: err },
    );
  }
}
