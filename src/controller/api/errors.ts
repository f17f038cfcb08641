/**
 * Every error leaves the API as `{error: {code, message, subjects?}}` with a
 * status a client can act on: 4xx says "change the request", 503 says "retry
 * later, the controller's disk needs attention", 500 says "tell the operator".
 * Codes are the stable codes of the underlying errors, so clients switch on the
 * same strings the CLI and the store use.
 */
import { SagError } from '../../errors.js';
import { COMPILER_ERROR_STATUS, isCompilerError } from '../compiler/index.js';
import { isModelError, type ModelErrorCode } from '../model/index.js';
import {
  isActivationError,
  isStoreError,
  type ActivationErrorCode,
  type StoreErrorCode,
} from '../store/index.js';

export class UnauthenticatedError extends SagError {
  constructor(message: string) {
    super('ERR_UNAUTHENTICATED', message);
  }
}

export class ForbiddenError extends SagError {
  constructor(message: string) {
    super('ERR_FORBIDDEN', message);
  }
}

/** A request that passed the schema but is still unusable (e.g. an audit limit out of range). */
export class RequestValidationError extends SagError {
  constructor(message: string) {
    super('ERR_VALIDATION', message);
  }
}

/** Too many attempts (activation guessing); `retryAfterSec` goes out as the Retry-After header. */
export class RateLimitedError extends SagError {
  readonly retryAfterSec: number;
  constructor(message: string, retryAfterSec: number) {
    super('ERR_RATE_LIMITED', message);
    this.retryAfterSec = retryAfterSec;
  }
}

/**
 * A wrong code is "who are you?" (401); a right code that is used up or expired is
 * "I know, but no" (403): the caller must get a new code, not retry this one.
 */
const ACTIVATION_STATUS: Record<ActivationErrorCode, number> = {
  ERR_ACTIVATION_INVALID: 401,
  ERR_ACTIVATION_EXPIRED: 403,
  ERR_ACTIVATION_USED: 403,
};

const MODEL_STATUS: Record<ModelErrorCode, number> = {
  ERR_MODEL_INVALID: 400,
  ERR_MODEL_NOT_FOUND: 404,
  ERR_MODEL_CONFLICT: 409,
  ERR_MODEL_AREA_MISMATCH: 409,
  ERR_MODEL_DEVICE_MODEL_MISMATCH: 409,
  ERR_MODEL_CIDR_OVERLAP: 409,
  ERR_MODEL_IN_USE: 409,
  // An instance state transition the current state does not allow: a conflict with the current state.
  ERR_MODEL_STATE: 409,
};

const STORE_STATUS: Record<StoreErrorCode, number> = {
  ERR_STORE_READ_ONLY: 503,
  ERR_STORE_FULL: 503,
  ERR_STORE_BUSY: 503,
  ERR_STORE_IO: 503,
  ERR_STORE_CLOSED: 503,
  ERR_STORE_CORRUPT: 500,
  ERR_STORE_SCHEMA_TOO_NEW: 500,
  ERR_STORE_API_KEY_NOT_FOUND: 404,
  ERR_STORE_LAST_API_KEY: 409,
  ERR_STORE_INVALID: 400,
};

/** Fastify's own request errors, by their code, mapped to ours. */
const FRAMEWORK_CODES: Record<number, string> = {
  400: 'ERR_BAD_REQUEST',
  404: 'ERR_ROUTE_NOT_FOUND',
  405: 'ERR_METHOD_NOT_ALLOWED',
  406: 'ERR_NOT_ACCEPTABLE',
  413: 'ERR_PAYLOAD_TOO_LARGE',
  414: 'ERR_URI_TOO_LONG',
  415: 'ERR_UNSUPPORTED_MEDIA_TYPE',
};

export interface HttpError {
  status: number;
  body: { error: { code: string; message: string; subjects?: string[] } };
  /** True when the error is ours to fix, not the client's; such errors are logged. */
  internal: boolean;
}

const reply = (status: number, code: string, message: string, subjects?: readonly string[]): HttpError => ({
  status,
  body: { error: { code, message, ...(subjects && subjects.length > 0 ? { subjects: [...subjects] } : {}) } },
  internal: status >= 500,
});

export function toHttpError(err: unknown): HttpError {
  if (isModelError(err)) return reply(MODEL_STATUS[err.code] ?? 400, err.code, err.message, err.subjects);
  if (isStoreError(err)) {
    const status = STORE_STATUS[err.code] ?? 500;
    // The public message: where the database lives is the operator's business, not the client's.
    return reply(status, err.code, err.publicMessage);
  }
  if (isCompilerError(err))
    return reply(COMPILER_ERROR_STATUS[err.code] ?? 500, err.code, err.message, err.subjects);
  if (isActivationError(err)) return reply(ACTIVATION_STATUS[err.code] ?? 401, err.code, err.message);
  if (err instanceof RateLimitedError) return reply(429, err.code, err.message);
  if (err instanceof UnauthenticatedError) return reply(401, err.code, err.message);
  if (err instanceof ForbiddenError) return reply(403, err.code, err.message);
  if (err instanceof RequestValidationError) return reply(400, err.code, err.message);
  const e = err as { validation?: unknown; statusCode?: unknown; message?: unknown } | null;
  if (e && Array.isArray(e.validation)) return reply(400, 'ERR_VALIDATION', String(e.message));
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // Framework messages may quote the whole request URL: keep them short.
    const message = String(e.message);
    return reply(
      e.statusCode,
      FRAMEWORK_CODES[e.statusCode] ?? 'ERR_BAD_REQUEST',
      message.length > 200 ? `${message.slice(0, 200)}…` : message,
    );
  }
  return reply(500, 'ERR_INTERNAL', 'internal error; the controller log has the details');
}

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** "body.uplinks[0].weight" from Ajv's "/uplinks/0/weight". */
function fieldPath(dataVar: string, instancePath: string): string {
  const prefix = dataVar === 'querystring' ? 'query' : dataVar;
  return (
    prefix +
    instancePath.replace(/\/([^/]*)/g, (_m, seg: string) =>
      /^\d+$/.test(seg) ? `[${seg}]` : `.${seg.replace(/~1/g, '/').replace(/~0/g, '~')}`,
    )
  );
}

/** One sentence naming the field, for a person reading a 400. */
export function describeValidationError(e: AjvError, dataVar: string): string {
  const at = fieldPath(dataVar, e.instancePath);
  const p = e.params;
  switch (e.keyword) {
    case 'required':
      return `${at}.${String(p['missingProperty'])} is required`;
    case 'additionalProperties':
      return `${at}.${String(p['additionalProperty'])} is not an allowed field`;
    case 'type':
      return `${at} must be ${article(String(p['type']))}`;
    case 'maxLength':
      return `${at} must be at most ${String(p['limit'])} characters long`;
    case 'minLength':
      return p['limit'] === 1
        ? `${at} must not be empty`
        : `${at} must be at least ${String(p['limit'])} characters long`;
    case 'maxItems':
      return `${at} must have at most ${String(p['limit'])} items`;
    case 'minItems':
      return `${at} must have at least ${String(p['limit'])} item${p['limit'] === 1 ? '' : 's'}`;
    case 'minimum':
    case 'maximum':
      return `${at} must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p['limit'])}`;
    case 'enum':
      return `${at} must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return `${at} has characters or a form that is not allowed (expected to match ${String(p['pattern'])})`;
    case 'minProperties':
      return `${at} must set at least one field`;
    default:
      return `${at} ${e.message ?? 'is invalid'}`;
  }
}
