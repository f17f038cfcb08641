import { SagError } from '../errors.js';

/**
 * Anything wrong in a configuration file. The message leads with "FILE:LINE: " so editors and
 * terminals can jump to it; `file`, `line` and `reason` are also kept apart for programs.
 */
export class ConfigError extends SagError {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  constructor(file: string, line: number, reason: string, options?: { cause?: unknown }) {
    super('ERR_SAG_CONFIG', `${file}:${line}: ${reason}`, options);
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}
