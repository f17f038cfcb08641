/**
 * How a client comes to trust the controller it talks to: the system CAs, a CA
 * file, or a pinned SHA-256 fingerprint of a certificate in the controller's
 * chain (kubeadm's discovery hash). Pinning reads the chain over a TLS
 * connection that is closed without writing a byte, finds the pinned CA in it
 * and then trusts that CA alone, hostname checks included, for real requests.
 * Nothing of the client's (token, code) is sent before the server is verified.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import { InvalidArgumentError, SagError } from '../errors.js';

/** How a client verifies the controller; neither set means the system CAs. */
export interface ControllerTrust {
  /** PEM of the CA(s) to trust instead of the system CAs. */
  caPem?: string;
  /** "sha256:<64 hex>" of the controller's CA certificate (DER). */
  caFingerprint?: string;
}

/** The controller's certificate is not the one the client was told to trust. */
export class ControllerUntrustedError extends SagError {
  /** The fingerprints the server presented, leaf first. */
  readonly seen: readonly string[];
  constructor(message: string, seen: readonly string[], options?: { cause?: unknown }) {
    super('ERR_CONTROLLER_UNTRUSTED', message, options);
    this.seen = seen;
  }
}

const FINGERPRINT = /^sha256:([0-9a-f]{64})$/;

/** "sha256:<64 lowercase hex>" of a certificate's DER; what `openssl x509 -fingerprint -sha256` shows. */
export function certificateFingerprint(der: Buffer): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** The fingerprint of a PEM's certificate, the last one when it holds a chain. */
export function pemFingerprint(pem: string): string {
  const blocks = splitPem(pem);
  const last = blocks[blocks.length - 1];
  if (last === undefined) throw new InvalidArgumentError('no PEM certificate found');
  return certificateFingerprint(new X509Certificate(last).raw);
}

/** Every "BEGIN CERTIFICATE" block of a PEM text. */
export function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Canonical form of a pin: "sha256:" and 64 hex digits, in either case, with or
 * without the colons openssl puts between bytes.
 */
export function parseFingerprint(text: string): string {
  const lower = text.trim().toLowerCase();
  const m = FINGERPRINT.exec(
    lower.startsWith('sha256:') ? `sha256:${lower.slice(7).replaceAll(':', '')}` : lower,
  );
  if (!m)
    throw new InvalidArgumentError(
      `a CA fingerprint must be sha256:<64 hex digits> (as "sag controller" prints it), got ${JSON.stringify(text)}`,
    );
  return `sha256:${m[1]}`;
}

/** localhost, 127.0.0.0/8, ::1 (with or without brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Refuses plain http:// to anything but loopback: a token or code would cross the network in clear. */
export function checkPlainHttp(url: URL): void {
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    throw new InvalidArgumentError(
      `refusing plain http:// to ${url.host}: credentials would cross the network in clear; use https:// (plain HTTP is allowed to loopback only)`,
    );
}

/** The chain a server presents, leaf first, as DER. */
function chainOf(peer: PeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  let cert: PeerCertificate | undefined = peer;
  while (cert?.raw && chain.length < 10) {
    chain.push(cert.raw);
    const next: PeerCertificate | undefined = (cert as DetailedPeerCertificate).issuerCertificate;
    if (!next || next === cert || next.raw?.equals(cert.raw)) break;
    cert = next;
  }
  return chain;
}

/** Reads the server's certificate chain without verifying it and without sending application data. */
export function readPeerChain(url: URL, timeoutMs: number): Promise<Buffer[]> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(isIP(host) ? {} : { servername: host }),
    });
    const timer = setTimeout(
      () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain = chainOf(socket.getPeerCertificate(true));
      socket.destroy();
      resolve(chain);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * The PEM of the pinned CA in the server's chain, after checking that the leaf
 * was issued by it (or is it). Throws ControllerUntrustedError naming both
 * fingerprints when the pin is not in the chain.
 */
export function pinnedCaFromChain(chain: readonly Buffer[], pin: string, where: string): string {
  const seen = chain.map(certificateFingerprint);
  const index = seen.indexOf(pin);
  const leafDer = chain[0];
  if (index < 0 || leafDer === undefined) {
    throw new ControllerUntrustedError(
      `the controller at ${where} is not the one pinned: expected CA fingerprint ${pin}, the server presented ${seen.join(', ') || 'no certificate'}; nothing was sent`,
      seen,
    );
  }
  const ca = new X509Certificate(chain[index]!);
  const leaf = new X509Certificate(leafDer);
  if (index > 0 && !(leaf.checkIssued(ca) && leaf.verify(ca.publicKey))) {
    throw new ControllerUntrustedError(
      `the controller at ${where} presented the pinned CA ${pin} but a certificate (${seen[0]}) it did not issue; nothing was sent`,
      seen,
    );
  }
  return ca.toString();
}

/** The fingerprint of the last certificate a server presents (its CA, when it sends its chain), for messages. */
export async function presentedCaFingerprint(url: URL, timeoutMs: number): Promise<string | undefined> {
  try {
    const chain = await readPeerChain(url, timeoutMs);
    const last = chain[chain.length - 1];
    return last && certificateFingerprint(last);
  } catch {
    return undefined;
  }
}

/** TLS verification failures (as opposed to a network that does not answer). */
export function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return (
    typeof code === 'string' &&
    (code.startsWith('ERR_TLS_CERT') || /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ISSUER/.test(code))
  );
}
