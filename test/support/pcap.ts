/** A minimal reader of classic pcap files (tcpdump -w) with Ethernet frames. */

export interface Frame {
  etherType: number;
  /** The frame after the Ethernet header. */
  payload: Buffer;
}

export function readPcap(file: Buffer): Frame[] {
  if (file.length < 24) throw new Error('pcap file too short');
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error('not a pcap file');
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20);
  if (linkType !== 1) throw new Error(`link type ${linkType} is not Ethernet`);
  const frames: Frame[] = [];
  for (let off = 24; off + 16 <= file.length;) {
    const caplen = u32(off + 8);
    const data = file.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    if (data.length < 14) continue;
    frames.push({ etherType: data.readUInt16BE(12), payload: data.subarray(14) });
  }
  return frames;
}

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** The UDP datagram inside an IPv4 packet, or undefined if it is not IPv4/UDP. */
export function ipv4Udp(packet: Buffer): UdpDatagram | undefined {
  if (packet.length < 20 || packet[0]! >> 4 !== 4 || packet[9] !== 17) return undefined;
  const ihl = (packet[0]! & 0x0f) * 4;
  const udp = packet.subarray(ihl);
  if (udp.length < 8) return undefined;
  // A UDP GSO frame captured before segmentation has the first segment's UDP length but the whole
  // super-packet's IP length: the IP length bounds what is there.
  const end = Math.max(udp.readUInt16BE(4), packet.readUInt16BE(2) - ihl);
  return { srcPort: udp.readUInt16BE(0), dstPort: udp.readUInt16BE(2), payload: udp.subarray(8, end) };
}

/** The payloads of every IPv4/UDP datagram in a capture. */
export function udpPayloads(file: Buffer): Buffer[] {
  return readPcap(file).flatMap((f) => {
    const u = f.etherType === 0x0800 ? ipv4Udp(f.payload) : undefined;
    return u ? [Buffer.from(u.payload)] : [];
  });
}

/**
 * The WireGuard datagrams in one captured UDP payload. With UDP GSO a capture on the sending side
 * sees the super-packet before segmentation: several datagrams of one size (the last may be
 * shorter) back to back. All of a run carry the same receiver index and consecutive counters,
 * which gives the size away; anything else is one datagram.
 */
export function wireguardDatagrams(payload: Buffer): Buffer[] {
  const isTransport = (at: number) =>
    at + 32 <= payload.length &&
    payload.readUInt32LE(at) === 4 &&
    payload.readUInt32LE(at + 4) === payload.readUInt32LE(4);
  if (!isTransport(0)) return [payload];
  let size = payload.length;
  for (let s = 32; s + 32 <= payload.length; s++) {
    if (isTransport(s) && payload.readBigUInt64LE(s + 8) === payload.readBigUInt64LE(8) + 1n) {
      size = s;
      break;
    }
  }
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += size)
    out.push(payload.subarray(at, Math.min(at + size, payload.length)));
  return out;
}
