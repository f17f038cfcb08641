/**
 * The controller's TLS identity. Given a certificate and key it serves those;
 * otherwise it keeps its own CA in the store (so every replica on one database
 * serves under the same CA, and a restart keeps the fingerprint devices pinned)
 * and issues itself a server certificate for the names it is reached by.
 * ECDSA P-256 through WebCrypto (@peculiar/x509 builds the certificates).
 */
import { X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import * as x509 from '@peculiar/x509';
import { pemFingerprint, splitPem } from '../contract/trust.js';
import { InvalidArgumentError } from '../errors.js';
import type { ControllerStore, TlsPair } from './store/index.js';

type X509Crypto = Parameters<typeof x509.cryptoProvider.set>[0];
type KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
type SigningKey = KeyPair['privateKey'];
x509.cryptoProvider.set(webcrypto as unknown as X509Crypto);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Long: the CA is what devices pin, and the server certificate is renewed with it (one rotation story). */
const VALIDITY_YEARS = 10;
const CA_NAME = 'ca';

/** What the HTTPS server is given, and the fingerprint clients pin. */
export interface ServingIdentity {
  /** Leaf first, then its CA: clients that pin read the CA from this chain. */
  certPem: string;
  keyPem: string;
  /** "sha256:<hex>" of the CA certificate (of the last certificate of a given file). */
  caFingerprint: string;
}

/** The operator's own certificate chain (leaf first) and key. */
export function identityFromFiles(certFile: string, keyFile: string): ServingIdentity {
  const certPem = readFileSync(certFile, 'utf8');
  const keyPem = readFileSync(keyFile, 'utf8');
  if (splitPem(certPem).length === 0) throw new InvalidArgumentError(`${certFile} holds no PEM certificate`);
  return { certPem, keyPem, caFingerprint: pemFingerprint(certPem) };
}

/**
 * The names the server certificate is for: the listen host (every local address
 * when it is a wildcard) and the public names, sorted and without repeats.
 */
export function serverNames(listenHost: string, publicNames: readonly string[]): string[] {
  const names = new Set<string>(publicNames);
  const host = listenHost.replace(/^\[|\]$/g, '');
  if (host === '' || host === '0.0.0.0' || host === '::') {
    names.add('localhost');
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) names.add(a.address.replace(/%.*$/, ''));
  } else {
    names.add(host);
    if (host === '127.0.0.1' || host === '::1' || host === 'localhost') names.add('localhost');
  }
  return [...names].sort();
}

/**
 * The stored CA (created on first start) and a server certificate under it for
 * `names` (issued once per set of names, then kept).
 */
export async function storedIdentity(
  store: ControllerStore,
  names: readonly string[],
  at: number,
): Promise<ServingIdentity> {
  const ca =
    (await store.getTlsPair(CA_NAME)) ?? (await store.putTlsPairIfAbsent(CA_NAME, await newCa(at), at));
  const serverName = `server:${names.join(',')}`;
  const server =
    (await store.getTlsPair(serverName)) ??
    (await store.putTlsPairIfAbsent(serverName, await newServerCertificate(ca, names, at), at));
  return {
    certPem: `${server.certPem.trim()}\n${ca.certPem.trim()}\n`,
    keyPem: server.keyPem,
    caFingerprint: pemFingerprint(ca.certPem),
  };
}

function validity(at: number): { notBefore: Date; notAfter: Date; serialNumber: string } {
  const notBefore = new Date(at - 60 * 60 * 1000); // an hour of clock skew
  const notAfter = new Date(at);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS);
  // Positive (first bit clear), 16 bytes: unique without a counter.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  return { notBefore, notAfter, serialNumber: serial.toString('hex') };
}

async function exportKey(key: KeyPair['privateKey']): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as unknown as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function newKeys(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as unknown as KeyPair;
}

async function newCa(at: number): Promise<TlsPair> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    ...validity(at),
    name: `CN=sag controller CA ${randomBytes(4).toString('hex')}`,
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

async function newServerCertificate(ca: TlsPair, names: readonly string[], at: number): Promise<TlsPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(ca.keyPem),
    KEY_ALGORITHM,
    false,
    ['sign'],
  );
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    ...validity(at),
    subject: `CN=${names.find((n) => !isIP(n)) ?? names[0] ?? 'sag controller'}`,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey as unknown as SigningKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((n) => ({ type: isIP(n) ? 'ip' : 'dns', value: n })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  // Checked with node's own X.509 before it is ever served.
  if (!new X509Certificate(cert.toString('pem')).checkIssued(new X509Certificate(ca.certPem)))
    throw new Error('the issued server certificate does not chain to the CA');
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}
