/**
 * Per-peer protocol state held by the Gateway: the Noise handshake, the timers, configuration, and
 * the counter snapshot that turns the dataplane's counters into timer inputs. The allowed IPs are
 * not here: the dataplane reads them back from its native trie.
 */
import type { Counters, Endpoint } from '../dataplane/types.js';
import { Handshake, type IndexAllocator } from '../wg/noise.js';
import type { KeyPair } from '../wg/crypto.js';
import type { PeerTimers } from '../wg/timers.js';

export interface CounterSnapshot {
  rxPackets: number;
  rxKeepalives: number;
  txPackets: number;
  txKeepalives: number;
}

/** What changed in the counters since the last poll, in the terms the timers understand. */
export interface TrafficDelta {
  dataSent: boolean;
  dataReceived: boolean;
  /** Something authenticated arrived, possibly only keepalives. */
  anyReceived: boolean;
}

export class GatewayPeer {
  readonly publicKey: string;
  readonly keyBytes: Uint8Array;
  handshake: Handshake | undefined;
  timers: PeerTimers;
  presharedKey: Uint8Array | undefined;
  endpoint: Endpoint | null = null;
  persistentKeepalive = 0;
  lastHandshakeUnixMs = 0;
  #seen: CounterSnapshot = { rxPackets: 0, rxKeepalives: 0, txPackets: 0, txKeepalives: 0 };

  constructor(publicKey: string, keyBytes: Uint8Array, timers: PeerTimers) {
    this.publicKey = publicKey;
    this.keyBytes = keyBytes;
    this.timers = timers;
  }

  /** (Re)builds the handshake for our current static key; none without a private key. */
  rebuildHandshake(local: KeyPair | undefined, indices: IndexAllocator): void {
    this.handshake?.clear();
    this.handshake = local
      ? new Handshake({ local, remoteStatic: this.keyBytes, presharedKey: this.presharedKey, indices })
      : undefined;
  }

  /** Compares counters with the last poll. Keepalives count as received but not as data. */
  delta(c: Counters): TrafficDelta {
    const s = this.#seen;
    const rx = c.rxPackets - s.rxPackets;
    const rxKa = c.rxKeepalives - s.rxKeepalives;
    const tx = c.txPackets - s.txPackets;
    const txKa = c.txKeepalives - s.txKeepalives;
    this.#seen = {
      rxPackets: c.rxPackets,
      rxKeepalives: c.rxKeepalives,
      txPackets: c.txPackets,
      txKeepalives: c.txKeepalives,
    };
    return { dataSent: tx - txKa > 0, dataReceived: rx - rxKa > 0, anyReceived: rx > 0 };
  }
}
