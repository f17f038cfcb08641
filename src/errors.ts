/**
 * One error class per condition, each with a stable `code` that callers may switch on.
 * Messages are written for a person; the underlying error, if any, is kept in `cause`.
 */
export class SagError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An argument failed validation before reaching native code or the network. */
export class InvalidArgumentError extends SagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SAG_INVALID_ARGUMENT', message, options);
  }
}

/** A peer, keypair or uplink named in a call does not exist. */
export class NotFoundError extends SagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SAG_NOT_FOUND', message, options);
  }
}

/** Something that must be unique (a public key, a receiver index) is taken. */
export class AlreadyExistsError extends SagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SAG_ALREADY_EXISTS', message, options);
  }
}

/** The operation is not allowed in the object's current state (closed, running, no TUN). */
export class InvalidStateError extends SagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SAG_INVALID_STATE', message, options);
  }
}

/** A system call failed (opening a TUN, binding a socket): permissions, addresses in use. */
export class SystemError extends SagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SAG_SYSTEM', message, options);
  }
}

/** A failure inside the native core that no caller input explains. */
export class InternalError extends SagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SAG_INTERNAL', message, options);
  }
}

/** A PreUp/PostUp/PreDown/PostDown command of a wg-quick file exited with a failure. */
export class HookFailedError extends SagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SAG_HOOK_FAILED', message, options);
  }
}
