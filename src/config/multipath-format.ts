/** Prints the multipath parts of a configuration (see multipath.ts) so parseConfig reads them back equal. */
import type { Policy, TrafficClass } from '../paths/types.js';
import type { ConfigUplink, PathTuning } from './types.js';

const TUNING_KEYS: [keyof PathTuning, string][] = [
  ['intervalMs', 'ProbeInterval'],
  ['standbyIntervalMs', 'ProbeStandbyInterval'],
  ['timeoutMs', 'ProbeTimeout'],
  ['holdDownMs', 'HoldDown'],
  ['downAfter', 'DownAfter'],
  ['upAfter', 'UpAfter'],
];

export function tuningLines(t: PathTuning | undefined): string[] {
  return TUNING_KEYS.filter(([k]) => t?.[k] !== undefined).map(([k, name]) => `${name} = ${t![k]}`);
}

export function uplinkLines(u: ConfigUplink): string[] {
  const out = ['[Uplink]', `Name = ${u.name}`];
  if (u.address !== undefined) out.push(`Address = ${u.address}`);
  if (u.device !== undefined) out.push(`Device = ${u.device}`);
  if (u.port !== undefined) out.push(`Port = ${u.port}`);
  if (u.priority !== undefined) out.push(`Priority = ${u.priority}`);
  if (u.weight !== undefined) out.push(`Weight = ${u.weight}`);
  if (u.metered !== undefined) out.push(`Metered = ${u.metered}`);
  if (u.bandwidthMbps !== undefined) out.push(`Bandwidth = ${u.bandwidthMbps}`);
  return out;
}

const range = (r: [number, number]) => (r[0] === r[1] ? `${r[0]}` : `${r[0]}-${r[1]}`);

export function classLines(c: TrafficClass): string[] {
  const out = ['[Class]', `Name = ${c.name}`];
  if (c.match.dscp?.length) out.push(`DSCP = ${c.match.dscp.join(', ')}`);
  if (c.match.protocol !== undefined) out.push(`Protocol = ${c.match.protocol}`);
  if (c.match.srcPorts) out.push(`SourcePort = ${range(c.match.srcPorts)}`);
  if (c.match.dstPorts) out.push(`DestinationPort = ${range(c.match.dstPorts)}`);
  if (c.match.srcAddresses?.length) out.push(`SourceAddress = ${c.match.srcAddresses.join(', ')}`);
  if (c.match.dstAddresses?.length) out.push(`DestinationAddress = ${c.match.dstAddresses.join(', ')}`);
  out.push(`Policy = ${c.policy.kind}`);
  const sla = c.policy as Extract<Policy, { kind: 'sla' }>;
  if (sla.maxLossPct !== undefined) out.push(`MaxLoss = ${sla.maxLossPct}`);
  if (sla.maxRttMs !== undefined) out.push(`MaxLatency = ${sla.maxRttMs}`);
  if (sla.maxJitterMs !== undefined) out.push(`MaxJitter = ${sla.maxJitterMs}`);
  return out;
}
