/**
 * Splits the byte stream of one UAPI connection into requests, as wireguard-go's IpcHandle reads it:
 *
 *   "get=1\n\n"               -> { kind: 'get' }
 *   "set=1\n" lines... "\n"   -> { kind: 'set', text }   (text is the whole request, for parseSetRequest)
 *   "sag-stats=1\n\n"         -> { kind: 'stats' }       (sag's extension, see stats.ts; framed like get)
 *
 * and its odd corners: "get=1\n" followed by anything but '\n' is answered with EINVAL after eating
 * that one byte; any other first line ends the connection with no reply; a set request ends at the
 * first line that is empty once a trailing '\r' is dropped (Go's line scanner drops it).
 *
 * Bounded: wireguard-go streams a set request and caps only a line (64 KiB, then EIO); we buffer a
 * request so it can be validated whole before any of it is applied, so the request is capped too.
 * Passing a cap answers with an error and closes the connection: after a cut the rest of the stream
 * cannot be re-synchronised.
 */
import { Errno, UapiError } from './errors.js';
import { STATS_OP } from './stats.js';

export type UapiFrame =
  | { readonly kind: 'get' }
  | { readonly kind: 'stats' }
  | { readonly kind: 'set'; readonly text: string }
  /** Reply "errno=-N"; then close the connection if `close`. */
  | { readonly kind: 'error'; readonly error: UapiError; readonly close: boolean }
  /** Close the connection without a reply (what wireguard-go does on an unknown operation). */
  | { readonly kind: 'close'; readonly reason: string };

export interface UapiFramerOptions {
  /** Largest set request, every byte counted; default 8 MiB, room for tens of thousands of peers. */
  readonly maxRequestBytes?: number;
  /** Longest line, wireguard-go's bufio.Scanner limit by default (64 KiB). */
  readonly maxLineBytes?: number;
}

export const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

const NL = 0x0a;
const CR = 0x0d;
const GET = 'get=1';
const SET = 'set=1';
/** Longest operation line worth buffering: "sag-stats=1" is 11 bytes before the '\n'. */
const MAX_OP_BYTES = STATS_OP.length;

type State = 'op' | 'get-newline' | 'stats-newline' | 'set' | 'closed';

export class UapiFramer {
  readonly #maxRequest: number;
  readonly #maxLine: number;
  #state: State = 'op';
  #op = '';
  #parts: Buffer[] = [];
  #size = 0;
  #lineLen = 0;
  #lineFirst = -1;

  constructor(options: UapiFramerOptions = {}) {
    this.#maxRequest = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.#maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    for (const [name, v] of [
      ['maxRequestBytes', this.#maxRequest],
      ['maxLineBytes', this.#maxLine],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 16)
        throw new RangeError(`${name} must be an integer >= 16, got ${v}`);
    }
  }

  /** True once the connection should be closed; later input is ignored. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Feeds the next bytes; returns the frames they complete, in order. */
  push(chunk: Uint8Array | string): UapiFrame[] {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const frames: UapiFrame[] = [];
    let pos = 0;
    while (pos < buf.length && this.#state !== 'closed') {
      if (this.#state === 'op') pos = this.#readOp(buf, pos, frames);
      else if (this.#state === 'get-newline' || this.#state === 'stats-newline')
        pos = this.#readGetNewline(buf, pos, frames);
      else pos = this.#readSet(buf, pos, frames);
    }
    return frames;
  }

  /**
   * The peer closed its side. A request cut short is dropped, never applied: wireguard-go would
   * apply the lines it got, but a half-sent configuration is more likely an accident than a wish.
   */
  end(): UapiFrame[] {
    const midRequest =
      this.#state === 'get-newline' ||
      this.#state === 'stats-newline' ||
      this.#state === 'set' ||
      (this.#state === 'op' && this.#op !== '');
    this.#close();
    return midRequest ? [{ kind: 'close', reason: 'connection ended in the middle of a request' }] : [];
  }

  #readOp(buf: Buffer, pos: number, frames: UapiFrame[]): number {
    const nl = buf.indexOf(NL, pos);
    const end = nl < 0 ? buf.length : nl;
    this.#op += buf.toString('latin1', pos, Math.min(end, pos + MAX_OP_BYTES + 1));
    if (this.#op.length > MAX_OP_BYTES) return this.#refuseOp(frames);
    if (nl < 0) return buf.length;
    const op = this.#op;
    this.#op = '';
    if (op === GET) this.#state = 'get-newline';
    else if (op === STATS_OP) this.#state = 'stats-newline';
    else if (op === SET) this.#startSet();
    else return this.#refuseOp(frames, op);
    return nl + 1;
  }

  #refuseOp(frames: UapiFrame[], op = this.#op): number {
    frames.push({
      kind: 'close',
      reason: `invalid UAPI operation ${JSON.stringify(op.slice(0, MAX_OP_BYTES + 1))}`,
    });
    this.#close();
    return Number.MAX_SAFE_INTEGER;
  }

  #readGetNewline(buf: Buffer, pos: number, frames: UapiFrame[]): number {
    const kind = this.#state === 'stats-newline' ? 'stats' : 'get';
    this.#state = 'op';
    if (buf[pos] === NL) frames.push({ kind });
    else {
      const error = new UapiError(
        Errno.EINVAL,
        `trailing character ${JSON.stringify(String.fromCharCode(buf[pos]!))} in UAPI ${kind}`,
      );
      frames.push({ kind: 'error', error, close: false });
    }
    return pos + 1;
  }

  #startSet(): void {
    this.#state = 'set';
    this.#parts = [Buffer.from(`${SET}\n`)];
    this.#size = SET.length + 1;
    this.#lineLen = 0;
    this.#lineFirst = -1;
  }

  #readSet(buf: Buffer, pos: number, frames: UapiFrame[]): number {
    // Bytes from `start` on belong to the request and are copied out once, when the request ends
    // or the chunk runs out, so a request is never re-copied per chunk.
    const start = pos;
    while (pos < buf.length) {
      const nl = buf.indexOf(NL, pos);
      const end = nl < 0 ? buf.length : nl;
      if (end > pos && this.#lineLen === 0) this.#lineFirst = buf[pos]!;
      this.#lineLen += end - pos;
      this.#size += end - pos + (nl < 0 ? 0 : 1);
      if (this.#lineLen > this.#maxLine) {
        return this.#refuseSet(
          frames,
          Errno.EIO,
          `a line of the set request is longer than ${this.#maxLine} bytes`,
        );
      }
      if (this.#size > this.#maxRequest) {
        return this.#refuseSet(
          frames,
          Errno.EMSGSIZE,
          `the set request is larger than ${this.#maxRequest} bytes`,
        );
      }
      if (nl < 0) break;
      const blank = this.#lineLen === 0 || (this.#lineLen === 1 && this.#lineFirst === CR);
      this.#lineLen = 0;
      this.#lineFirst = -1;
      pos = nl + 1;
      if (blank) {
        this.#parts.push(Buffer.from(buf.subarray(start, pos)));
        const text = Buffer.concat(this.#parts).toString('utf8');
        this.#parts = [];
        this.#state = 'op';
        frames.push({ kind: 'set', text });
        return pos;
      }
    }
    this.#parts.push(Buffer.from(buf.subarray(start)));
    return buf.length;
  }

  #refuseSet(frames: UapiFrame[], errno: number, message: string): number {
    frames.push({ kind: 'error', error: new UapiError(errno, message), close: true });
    this.#close();
    return Number.MAX_SAFE_INTEGER;
  }

  #close(): void {
    this.#state = 'closed';
    this.#parts = [];
    this.#op = '';
  }
}
