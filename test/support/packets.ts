/** Builders for raw IP packets and WireGuard transport messages used by tests. */
import { createCipheriv, randomBytes } from 'node:crypto';

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
