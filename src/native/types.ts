/** The typed surface of the raw addon (native/addon). Only src/dataplane calls it. */
import type { DropReason } from './facts.generated.js';

export interface RawCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  rxKeepalives: number;
  txKeepalives: number;
  drops: Record<DropReason, number>;
}

export interface RawEndpoint {
  address: string;
  port: number;
}

export interface RawPeerInfo {
  id: number;
  publicKey: Buffer;
  endpoint: RawEndpoint | null;
  uplinkId: number;
  currentIndex: number;
  previousIndex: number;
  nextIndex: number;
  stagedPackets: number;
  counters: RawCounters;
}

/** Matches sag_event_type in native/include/sag/sag.h. */
export const enum RawEventType {
  Control = 1,
  HandshakeNeeded = 2,
  KeypairConfirmed = 3,
  RekeyNeeded = 4,
  EndpointChanged = 5,
  ProbeReply = 6,
}

export interface RawEvent {
  type: RawEventType;
  peerId: number;
  uplinkId: number;
  index: number;
  from?: RawEndpoint;
  data?: Buffer;
}

export interface RawDataplaneConfig {
  mtu?: number;
  stagedCapacity?: number;
  eventCapacity?: number;
  batchSize?: number;
  tunQueues?: number;
  receiveWorkers?: number;
}

export interface RawDataplane {
  openTun(name: string): string;
  addDomainTun(name: string): { domain: number; name: string };
  removeDomain(domain: number): void;
  setPeerDomain(peerId: number, domain: number): void;
  setRateLimit(peerId: number, bytesPerSecond: bigint, burstBytes: bigint): void;
  start(): void;
  stop(): void;
  close(): void;
  addUplink(address: string, port: number, device: string, fwmark: number): RawEndpoint & { id: number };
  removeUplink(id: number): void;
  uplinkCounters(id: number): RawCounters;
  addPeer(publicKey: Buffer): number;
  removePeer(id: number): void;
  setEndpoint(peerId: number, address: string, port: number, uplinkId: number): void;
  setAllowedIps(peerId: number, prefixes: { address: string; cidr: number }[]): void;
  peerInfo(peerId: number): RawPeerInfo;
  /** The peer's prefixes as the trie holds them: IPv4 first, each family ascending. */
  peerAllowedIps(peerId: number): { address: string; cidr: number }[];
  installKeypair(
    peerId: number,
    localIndex: number,
    remoteIndex: number,
    sendKey: Buffer,
    recvKey: Buffer,
    initiator: boolean,
    nowNs: bigint,
  ): void;
  retireKeypair(localIndex: number): void;
  expireKeypair(localIndex: number): void;
  expireOlderThan(nowNs: bigint, maxAgeNs: bigint): number;
  sendControl(uplinkId: number, address: string, port: number, data: Buffer): void;
  sendKeepalive(peerId: number): void;
  dropStaged(peerId: number): number;
  setSelection(peerId: number, selection: RawSelection | null): void;
  sendProbe(peerId: number, uplinkId: number, address: string, port: number, pathId: number, sequence: bigint): ProbeSendResult;
  pollEvents(max?: number): RawEvent[];
  counters(): RawCounters;
  setEventHandler(handler: () => void): void;
}

/** sag_selection of sag.h, already validated (see src/dataplane/selection.ts). */
export interface RawSelection {
  paths: { id: number; uplinkId: number; address: string; port: number }[];
  classes: {
    dscpMask: bigint;
    protocol: number;
    srcPorts: number[];
    dstPorts: number[];
    srcPrefixes: { address: string; cidr: number }[];
    dstPrefixes: { address: string; cidr: number }[];
    mode: number;
    paths: number[];
    weights: number[];
  }[];
}

export type ProbeSendResult = 'sent' | 'no-session' | 'unreachable' | 'refused';

/** The addon's testing export (native/addon/testing.cc, sag_testing.h). Only src/testing calls it. */
export interface RawTesting {
  openMemoryTun(dataplane: RawDataplane): void;
  addMemoryDomain(dataplane: RawDataplane): number;
  memoryTunInject(dataplane: RawDataplane, packet: Buffer, domain: number): boolean;
  memoryTunTake(dataplane: RawDataplane, domain: number): Buffer | null;
}

export interface NativeAddon {
  NativeDataplane: new (config: RawDataplaneConfig) => RawDataplane;
  /** What the addon was compiled with (sag.h); loadAddon() checks it against facts.generated.ts. */
  dropReasons: string[];
  limits: Record<string, number>;
  testing: RawTesting;
}
