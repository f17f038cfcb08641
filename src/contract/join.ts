/**
 * A join string: all a device or an access point needs to reach and trust its
 * controller and to prove who it is, in one copy-pasteable secret ("sagjoin1:"
 * and base64url JSON): the controller URLs, the CA fingerprint to pin, and the
 * device's serial and activation code or the access point's id and token.
 */
import { InvalidArgumentError } from '../errors.js';
import { checkPlainHttp, parseFingerprint } from './trust.js';

export const JOIN_PREFIX = 'sagjoin1:';
/** Far above any real one (a few URLs and a token); a bound before parsing what may be anything. */
const MAX_JOIN_LENGTH = 8192;

interface JoinBase {
  /** Controller URLs, most preferred first; at least one. */
  urls: string[];
  /** "sha256:<hex>" of the controller's CA; absent only for plain http:// to loopback. */
  caFingerprint?: string;
}
export interface DeviceJoin extends JoinBase {
  serial: string;
  code: string;
}
export interface AccessPointJoin extends JoinBase {
  id: string;
  token: string;
}
export type Join = DeviceJoin | AccessPointJoin;

export function encodeJoin(join: Join): string {
  return JOIN_PREFIX + Buffer.from(JSON.stringify(join), 'utf8').toString('base64url');
}

const malformed = (why: string) =>
  new InvalidArgumentError(
    `the join string is malformed (${why}); copy it again from 'sag device activation' or 'sag ap token'`,
  );

const isText = (v: unknown, max = 1024): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

/** Parses and checks a join string (surrounding whitespace allowed, as read from a file). */
export function parseJoin(text: string): Join {
  const trimmed = text.trim();
  if (trimmed.length > MAX_JOIN_LENGTH) throw malformed('too long');
  if (!trimmed.startsWith(JOIN_PREFIX)) throw malformed(`it does not start with ${JOIN_PREFIX}`);
  const payload = trimmed.slice(JOIN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(payload)) throw malformed('not base64url after the prefix');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw malformed('not JSON inside');
  }
  const o = value as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw malformed('not an object inside');
  const urls = o['urls'];
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > 16 || !urls.every((u) => isText(u)))
    throw malformed('no controller URLs');
  for (const u of urls as string[]) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw malformed(`${JSON.stringify(u)} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw malformed(`${u} is not http(s)`);
    checkPlainHttp(url);
  }
  const base: JoinBase = { urls: urls as string[] };
  if (o['caFingerprint'] !== undefined) {
    if (typeof o['caFingerprint'] !== 'string') throw malformed('the CA fingerprint is not text');
    base.caFingerprint = parseFingerprint(o['caFingerprint']);
  }
  if (isText(o['serial'], 128) && isText(o['code'], 256))
    return { ...base, serial: o['serial'], code: o['code'] };
  if (isText(o['id'], 128) && isText(o['token'], 256)) return { ...base, id: o['id'], token: o['token'] };
  throw malformed('neither a serial and code nor an access point id and token');
}
