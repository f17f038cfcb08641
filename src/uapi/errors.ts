import { SagError } from '../errors.js';

/**
 * errno values the userspace API speaks (Linux numbering, which is what wg(8) and wireguard-go use on
 * Linux). wireguard-go answers EINVAL for every bad key or value and EPROTO only for a line without '='
 * (device/uapi.go); EIO, EADDRINUSE and ENOANO come from I/O, bind and "other" failures.
 */
export const Errno = {
  EIO: 5,
  EINVAL: 22,
  EPROTO: 71,
  EMSGSIZE: 90,
  EADDRINUSE: 98,
  ENOANO: 55,
} as const;

/**
 * A request the userspace API refuses. `errno` is the positive errno.h value; the reply puts it on the
 * wire negated ("errno=-22"), as wireguard-go does and as wg(8) expects.
 */
export class UapiError extends SagError {
  readonly errno: number;
  constructor(errno: number, message: string, options?: { cause?: unknown }) {
    super('ERR_SAG_UAPI', message, options);
    this.errno = errno;
  }
}
