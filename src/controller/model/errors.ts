import { SagError } from '../../errors.js';

/**
 * Every refusal by the model is one of these. The code is stable (API clients and
 * the store switch on it); the message names the objects involved for a person;
 * `subjects` lists their ids so an API can point at them without parsing text.
 */
export const MODEL_ERROR_CODES = [
  'ERR_MODEL_INVALID',
  'ERR_MODEL_NOT_FOUND',
  'ERR_MODEL_CONFLICT',
  'ERR_MODEL_AREA_MISMATCH',
  'ERR_MODEL_DEVICE_MODEL_MISMATCH',
  'ERR_MODEL_CIDR_OVERLAP',
  'ERR_MODEL_IN_USE',
  'ERR_MODEL_STATE',
] as const;

export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

/** Base of all model refusals; catch this, then switch on `code`. */
export class ModelError extends SagError {
  declare readonly code: ModelErrorCode;
  readonly subjects: readonly string[];
  constructor(
    code: ModelErrorCode,
    message: string,
    subjects: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.subjects = subjects;
  }
}

/** Malformed input: bad CIDR, key, name, range, count, unknown command. */
export class ModelInvalidError extends ModelError {
  constructor(message: string, subjects: readonly string[] = [], options?: { cause?: unknown }) {
    super('ERR_MODEL_INVALID', message, subjects, options);
  }
}

export class ModelNotFoundError extends ModelError {
  constructor(message: string, subjects: readonly string[] = []) {
    super('ERR_MODEL_NOT_FOUND', message, subjects);
  }
}

/** The object already exists, or is already bound/attached/a member elsewhere. */
export class ModelConflictError extends ModelError {
  constructor(message: string, subjects: readonly string[] = []) {
    super('ERR_MODEL_CONFLICT', message, subjects);
  }
}

export class ModelAreaMismatchError extends ModelError {
  constructor(message: string, subjects: readonly string[] = []) {
    super('ERR_MODEL_AREA_MISMATCH', message, subjects);
  }
}

/** A device may only be bound to an instance of its own model (hardware, vcpe, app). */
export class ModelDeviceMismatchError extends ModelError {
  constructor(message: string, subjects: readonly string[] = []) {
    super('ERR_MODEL_DEVICE_MODEL_MISMATCH', message, subjects);
  }
}

export class ModelCidrOverlapError extends ModelError {
  constructor(message: string, subjects: readonly string[] = []) {
    super('ERR_MODEL_CIDR_OVERLAP', message, subjects);
  }
}

/** Deleting or changing something another object still refers to. */
export class ModelInUseError extends ModelError {
  constructor(message: string, subjects: readonly string[] = []) {
    super('ERR_MODEL_IN_USE', message, subjects);
  }
}

/** An instance state transition outside the allowed table. */
export class ModelStateError extends ModelError {
  constructor(message: string, subjects: readonly string[] = []) {
    super('ERR_MODEL_STATE', message, subjects);
  }
}

export function isModelError(err: unknown): err is ModelError {
  return err instanceof ModelError;
}
