/**
 * Provisions the lab through the controller's HTTP API, as an operator would:
 * access points (with their public keys) and their tokens, instances, devices
 * with activation codes, CCNs and members, a CEN attaching ccn-a and the VPC, and
 * the mainland-international grant the VPC (in cn-hongkong) needs.
 *
 * Runs inside the controller's namespace (the lab's host has no route into the
 * lab): `node dist/lab/provision.js` with SAG_CONTROLLER, SAG_CA_FINGERPRINT, SAG_API_KEY and the
 * access points' public keys in LAB_AP_KEYS (JSON), printing the codes and tokens
 * as one JSON line.
 */
import { ApiClient } from '../cli/operator/client.js';
import { APS, AP_PORT, BRANCHES, CCNS, VPC } from './topology.js';

export interface Provisioned {
  /** Activation code per device serial. */
  codes: Record<string, string>;
  /** Token per access point id. */
  apTokens: Record<string, string>;
}

export const CEN_ID = 'cen-lab';
export const GRANT_MBPS = 100;

export async function provision(api: ApiClient, apKeys: Record<string, string>): Promise<Provisioned> {
  const apTokens: Record<string, string> = {};
  for (const ap of APS) {
    await api.post('/v1/access-points', {
      id: ap.id,
      area: ap.area,
      endpoints: [`${ap.wan}:${AP_PORT}`],
      maxInstances: 10,
      publicKey: apKeys[ap.id],
    });
    apTokens[ap.id] = (await api.post<{ token: string }>(`/v1/access-points/${ap.id}/token`)).token;
  }
  for (const ccn of CCNS) await api.post('/v1/ccns', { ...ccn, cidrs: [...ccn.cidrs] });
  const codes: Record<string, string> = {};
  for (const b of BRANCHES) {
    await api.post('/v1/instances', {
      id: b.instanceId,
      name: `Branch ${b.name}`,
      area: 'mainland',
      model: 'app',
      bandwidthMbps: b.bandwidthMbps,
      lanCidrs: [b.lan],
      uplinks: [{ name: 'wan0', kind: 'wired', priority: 1, weight: 100 }],
    });
    await api.post('/v1/devices', { serial: b.serial, model: 'app', softwareVersion: '0.1.0' });
    await api.post(`/v1/devices/${b.serial}/bind`, { instanceId: b.instanceId });
    codes[b.serial] = (
      await api.post<{ code: string }>(`/v1/devices/${b.serial}/activation`, { ttlSeconds: 3600 })
    ).code;
    await api.put(`/v1/ccns/${b.ccnId}/members/${b.instanceId}`);
  }
  await api.post('/v1/vpcs', { id: VPC.id, name: 'Lab VPC', region: VPC.region, cidrs: [VPC.cidr] });
  await api.post('/v1/cens', { id: CEN_ID, name: 'Lab CEN' });
  await api.put(`/v1/cens/${CEN_ID}/grants/mainland/international`, { mbps: GRANT_MBPS });
  await api.put(`/v1/cens/${CEN_ID}/ccns/ccn-a`);
  await api.put(`/v1/cens/${CEN_ID}/vpcs/${VPC.id}`);
  return { codes, apTokens };
}

async function main(): Promise<void> {
  const pin = process.env['SAG_CA_FINGERPRINT'];
  const api = new ApiClient(
    process.env['SAG_CONTROLLER'] ?? '',
    process.env['SAG_API_KEY'],
    pin ? { caFingerprint: pin } : {},
  );
  const out = await provision(api, JSON.parse(process.env['LAB_AP_KEYS'] ?? '{}') as Record<string, string>);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (process.argv[1] && import.meta.url === new URL(process.argv[1], 'file://').href) {
  main().catch((err: Error) => {
    process.stderr.write(`lab provision: ${err.message}\n`);
    process.exit(1);
  });
}
