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
