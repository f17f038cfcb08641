/**
 * Hand-made access point configurations for the access point's tests: peers, rules
 * and a configuration stamped with a content version, as the controller would send.
 */
import { createHash } from 'node:crypto';
import type { AccessPointConfig, ForwardingRule, HubPeer } from '../../src/contract/config.js';

/** Member n: tunnel address 100.96.0.n/32, serial SN-n, instance sag-n; key 32 bytes of n unless given. */
export function hubPeer(
  n: number,
  ccnId: string,
  opts: { lans?: string[]; publicKey?: string; bandwidthMbps?: number } = {},
): HubPeer {
  const address = `100.96.0.${n}/32`;
  return {
    serial: `SN-${n}`,
    publicKey: opts.publicKey ?? Buffer.alloc(32, n).toString('base64'),
    instanceId: `sag-${n}`,
    ccnId,
    address,
    allowedIps: [address, ...(opts.lans ?? [])].sort(),
    bandwidthMbps: opts.bandwidthMbps ?? 10,
  };
}

export function forwardingRule(
  ccnId: string,
  kind: 'ccn' | 'vpc',
  id: string,
  cidrs: string[],
): ForwardingRule {
  return {
    ccnId,
    to: { kind, id },
    reason: kind === 'ccn' ? 'same-ccn' : 'same-area',
    cidrs,
    grantMbps: null,
  };
}

/** Access point ap-t's configuration; its version is the SHA-256 of the rest. */
export function apConfig(
  peers: HubPeer[],
  policy: ForwardingRule[],
  endpoint = '192.0.2.1:51820',
): AccessPointConfig {
  const body = {
    kind: 'accessPoint' as const,
    accessPointId: 'ap-t',
    area: 'mainland',
    endpoints: [endpoint],
    maxInstances: 10,
    peers,
    policy,
  };
  return {
    ...body,
    version: createHash('sha256').update(JSON.stringify(body)).digest('hex'),
    modelVersion: 1,
  };
}
