/**
 * Agent failures, one class per thing to do about it: activate first, wait for
 * the controller, fix the request or the controller's model, fix the state dir.
 */
import { SagError } from '../errors.js';

export const AGENT_ERROR_CODES = [
  'ERR_AGENT_NOT_ACTIVATED',
  'ERR_AGENT_CONTROLLER_UNREACHABLE',
  'ERR_AGENT_CONTROLLER_REFUSED',
  'ERR_AGENT_STATE',
  'ERR_AGENT_CONFIG_MISMATCH',
] as const;

export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];

export class AgentError extends SagError {
  declare readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** start() without an identity in the state directory. */
export class NotActivatedError extends AgentError {
  constructor(dir: string) {
    super(
      'ERR_AGENT_NOT_ACTIVATED',
      `no device identity in ${dir}; activate first with the serial number and an activation code`,
    );
  }
}

/**
 * The controller could not be asked: connection refused or reset, timeout, DNS,
 * or a 5xx/503 answer. Retrying later may help; the agent keeps its last configuration.
 */
export class ControllerUnreachableError extends AgentError {
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super('ERR_AGENT_CONTROLLER_UNREACHABLE', message, options);
    this.status = options?.status;
  }
}

/** The controller answered with a 4xx: the request or the model must change, not the timing. */
export class ControllerRefusedError extends AgentError {
  readonly status: number;
  /** The API's error code, e.g. "ERR_ACTIVATION_INVALID", "ERR_COMPILER_DEVICE_NOT_BOUND". */
  readonly apiCode: string;
  /** Seconds from a Retry-After header (429), if any. */
  readonly retryAfterSec: number | undefined;
  constructor(status: number, apiCode: string, message: string, retryAfterSec?: number) {
    super('ERR_AGENT_CONTROLLER_REFUSED', `controller refused (${status} ${apiCode}): ${message}`);
    this.status = status;
    this.apiCode = apiCode;
    this.retryAfterSec = retryAfterSec;
  }
}

/** The state directory or a file in it cannot be read or written, or holds something malformed. */
export class AgentStateError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_AGENT_STATE', message, options);
  }
}

/** A configuration that is not for this device or this key; applying it would cut the tunnel. */
export class ConfigMismatchError extends AgentError {
  constructor(message: string) {
    super('ERR_AGENT_CONFIG_MISMATCH', message);
  }
}
