/**
 * What can go wrong between a controller and whoever asks it, one class per
 * thing to do about it: wait and retry (unreachable), change the request or the
 * model (refused). Both keep the API's error code and message when it sent one,
 * so a person sees what the controller said.
 */
import { SagError } from '../errors.js';

/** What the controller said about a failed request: its HTTP status and the API's `{error: {code, message}}`. */
export interface ControllerAnswer {
  status: number;
  /** The API's stable error code, or ERR_HTTP_<status> when the body carried none. */
  apiCode: string;
  apiMessage: string;
}

/**
 * The controller could not be asked or could not answer: connection refused or
 * reset, DNS, timeout, a 5xx or 408, or something that is not a sag controller
 * answering. Retrying later may help; a follower keeps its last configuration.
 */
export class ControllerUnreachableError extends SagError {
  /** Set when an HTTP answer came (5xx, 408, not our API), undefined when none did. */
  readonly status: number | undefined;
  readonly apiCode: string | undefined;
  readonly apiMessage: string | undefined;
  constructor(message: string, options?: { cause?: unknown; answer?: ControllerAnswer }) {
    super('ERR_CONTROLLER_UNREACHABLE', message, options);
    this.status = options?.answer?.status;
    this.apiCode = options?.answer?.apiCode;
    this.apiMessage = options?.answer?.apiMessage;
  }
}

/** The controller answered with a 4xx: the request or the model must change, not the timing. */
export class ControllerRefusedError extends SagError {
  readonly status: number;
  /** The API's error code, e.g. "ERR_ACTIVATION_INVALID", "ERR_COMPILER_DEVICE_NOT_BOUND". */
  readonly apiCode: string;
  readonly apiMessage: string;
  /** Seconds from a Retry-After header (429), if any. */
  readonly retryAfterSec: number | undefined;
  constructor(status: number, apiCode: string, apiMessage: string, retryAfterSec?: number) {
    super('ERR_CONTROLLER_REFUSED', `controller refused (${status} ${apiCode}): ${apiMessage}`);
    this.status = status;
    this.apiCode = apiCode;
    this.apiMessage = apiMessage;
    this.retryAfterSec = retryAfterSec;
  }
}

/**
 * diffConfigs was handed configurations of different kinds or different subjects.
 * The code is the one it had when the diff lived in the compiler; callers switch on it.
 */
export class DiffMismatchError extends SagError {
  constructor(message: string) {
    super('ERR_COMPILER_DIFF_MISMATCH', message);
  }
}
