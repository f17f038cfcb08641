/**
 * Agent failures, one class per thing to do about it: activate first, fix the
 * state dir, activate again. What goes wrong talking to the controller (wait for
 * it, or fix the request or its model) is the contract's (src/contract/errors.ts).
 */
import { SagError } from '../errors.js';

export const AGENT_ERROR_CODES = [
  'ERR_AGENT_NOT_ACTIVATED',
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
