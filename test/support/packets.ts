/** Builders for raw IP packets, WireGuard transport messages and forged handshake messages used by tests. */
import { createCipheriv, randomBytes } from 'node:crypto';
import { mac1Key } from '../../src/wg/cookie.js';
import { mac } from '../../src/wg/crypto.js';

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** A UDP-in-IPv4 packet of `total` bytes (header checksum left zero: the dataplane does not care). */
export function ipv4Packet(src: string, dst: string, total: number, fill = 0xab): Buffer {
  const p = Buffer.alloc(Math.max(total, 20), fill);
  p.fill(0, 0, 20);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p[8] = 64;
  p[9] = 17;
  Buffer.from(ipv4Bytes(src)).copy(p, 12);
  Buffer.from(ipv4Bytes(dst)).copy(p, 16);
  return p;
}

/** A transport-data message (type 4) sealed like a WireGuard peer would, with padding to 16. */
export function sealTransport(key: Buffer, receiver: number, counter: bigint, inner: Buffer): Buffer {
  const padded = Buffer.alloc(Math.ceil(inner.length / 16) * 16);
  inner.copy(padded);
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(counter, 4);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const body = Buffer.concat([cipher.update(padded), cipher.final(), cipher.getAuthTag()]);
  const header = Buffer.alloc(16);
  header[0] = 4;
  header.writeUInt32LE(receiver, 4);
  header.writeBigUInt64LE(counter, 8);
  return Buffer.concat([header, body]);
}

export function randomKey(): Buffer {
  return randomBytes(32);
}

/** n random bytes; with `type`, a WireGuard message header (type, three zero bytes) in front. */
export function random(n: number, type?: number): Buffer {
  const b = randomBytes(n);
  if (type !== undefined && n > 0) {
    b[0] = type;
    b.fill(0, 1, Math.min(4, n));
  }
  return b;
}

/** An initiation of random content whose mac1 is valid for `responderPub` (mac2 left zero). */
export function initiationWithMac1(responderPub: Uint8Array): Buffer {
  const m = random(148, 1);
  m.fill(0, 132);
  Buffer.from(mac(mac1Key(responderPub), m.subarray(0, 116))).copy(m, 116);
  return m;
}

/** A response of random content whose mac1 is valid for `responderPub` (mac2 left zero). */
export function responseWithMac1(responderPub: Uint8Array): Buffer {
  const m = random(92, 2);
  m.fill(0, 76);
  Buffer.from(mac(mac1Key(responderPub), m.subarray(0, 60))).copy(m, 60);
  return m;
}
