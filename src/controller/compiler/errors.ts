import { SagError } from '../../errors.js';

/**
 * Refusals of the configuration compiler. They extend SagError rather than
 * ModelError because ModelError's `code` is typed to the model's own code list,
 * which API clients already switch on; these conditions are about compiling,
 * not about a command the model refused. Like ModelError they carry `subjects`.
 */
export const COMPILER_ERROR_CODES = [
  'ERR_COMPILER_UNKNOWN_DEVICE',
  'ERR_COMPILER_DEVICE_NOT_BOUND',
  'ERR_COMPILER_DEVICE_NOT_ACTIVATED',
  'ERR_COMPILER_UNKNOWN_ACCESS_POINT',
  'ERR_COMPILER_ACCESS_POINT_KEY',
  'ERR_COMPILER_INVALID_OPTIONS',
  'ERR_COMPILER_POOL_EXHAUSTED',
  'ERR_COMPILER_POOL_OVERLAP',
] as const;

export type CompilerErrorCode = (typeof COMPILER_ERROR_CODES)[number];

/**
 * The HTTP status an API should answer with, for whoever wires the compiler into
 * a route: 404 for a missing subject, 409 when the model is not yet in a shape
 * that compiles (the operator must bind, add a key, widen a pool), 500 for a
 * caller's programming error.
 */
export const COMPILER_ERROR_STATUS: Readonly<Record<CompilerErrorCode, number>> = {
  ERR_COMPILER_UNKNOWN_DEVICE: 404,
  ERR_COMPILER_DEVICE_NOT_BOUND: 409,
  ERR_COMPILER_DEVICE_NOT_ACTIVATED: 409,
  ERR_COMPILER_UNKNOWN_ACCESS_POINT: 404,
  ERR_COMPILER_ACCESS_POINT_KEY: 409,
  ERR_COMPILER_INVALID_OPTIONS: 500,
  ERR_COMPILER_POOL_EXHAUSTED: 409,
  ERR_COMPILER_POOL_OVERLAP: 409,
};

export class CompilerError extends SagError {
  declare readonly code: CompilerErrorCode;
  readonly subjects: readonly string[];
  constructor(
    code: CompilerErrorCode,
    message: string,
    subjects: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.subjects = subjects;
  }
}

export class UnknownDeviceError extends CompilerError {
  constructor(serial: string) {
    super('ERR_COMPILER_UNKNOWN_DEVICE', `device ${serial} is not registered`, [serial]);
  }
}

export class DeviceNotBoundError extends CompilerError {
  constructor(serial: string) {
    super(
      'ERR_COMPILER_DEVICE_NOT_BOUND',
      `device ${serial} is bound to no instance, so it has no configuration yet; bind it first`,
      [serial],
    );
  }
}

/** Registered without a key and not activated yet (see SagDevice.publicKey). */
export class DeviceNotActivatedError extends CompilerError {
  constructor(serial: string) {
    super(
      'ERR_COMPILER_DEVICE_NOT_ACTIVATED',
      `device ${serial} has no public key yet; it gets one when it activates with an activation code`,
      [serial],
    );
  }
}

export class UnknownAccessPointError extends CompilerError {
  constructor(id: string) {
    super('ERR_COMPILER_UNKNOWN_ACCESS_POINT', `access point ${id} does not exist`, [id]);
  }
}

/** An access point's public key is missing from the supplied keys, malformed, or shared with another. */
export class AccessPointKeyError extends CompilerError {
  constructor(message: string, subjects: readonly string[], options?: { cause?: unknown }) {
    super('ERR_COMPILER_ACCESS_POINT_KEY', message, subjects, options);
  }
}

export class InvalidCompileOptionsError extends CompilerError {
  constructor(message: string, subjects: readonly string[] = []) {
    super('ERR_COMPILER_INVALID_OPTIONS', message, subjects);
  }
}

export class PoolExhaustedError extends CompilerError {
  constructor(pool: string, needed: number, available: bigint) {
    super(
      'ERR_COMPILER_POOL_EXHAUSTED',
      `overlay pool ${pool} has ${available} usable addresses but ${needed} instances need one`,
      [pool],
    );
  }
}

/** The overlay pool meets a destination of the configuration: a tunnel address would shadow a route. */
export class PoolOverlapError extends CompilerError {
  constructor(pool: string, cidr: string, owner: string) {
    super(
      'ERR_COMPILER_POOL_OVERLAP',
      `overlay pool ${pool} overlaps ${cidr} (${owner}); choose a pool outside every CCN, LAN and VPC range`,
      [pool, cidr],
    );
  }
}

export function isCompilerError(err: unknown): err is CompilerError {
  return err instanceof CompilerError;
}
