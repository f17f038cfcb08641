/**
 * Response schemas, for the OpenAPI document only. They are deliberately not
 * handed to Fastify as response schemas: its serializer silently drops fields
 * a schema does not list, so a new model field would vanish from responses
 * instead of merely being undocumented. `components` are referenced by name.
 */
import { INSTANCE_MODELS } from '../model/index.js';
import type { JsonSchema } from './schemas.js';

const str = { type: 'string' };
const int = { type: 'integer' };
const strs = { type: 'array', items: str };
const nullable = (schema: JsonSchema): JsonSchema => ({ oneOf: [schema, { type: 'null' }] });
const closed = (properties: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
export const itemsOf = (name: string): JsonSchema =>
  closed({ version: int, items: { type: 'array', items: ref(name) } });

const version = { ...int, description: 'Model version at which this entity last changed' };

export const ENTITY_SCHEMAS: Record<string, JsonSchema> = {
  Error: closed({
    error: {
      type: 'object',
      properties: { code: str, message: str, subjects: strs },
      required: ['code', 'message'],
      additionalProperties: false,
    },
  }),
  Area: closed({ name: str, regions: strs, version }),
  AccessPoint: closed({
    id: str,
    area: str,
    endpoints: strs,
    maxInstances: int,
    publicKey: nullable({ ...str, description: "The hub's WireGuard public key; null until set" }),
    version,
  }),
  Uplink: closed({ name: str, kind: { type: 'string', enum: ['wired', 'lte'] }, priority: int, weight: int }),
  Instance: closed({
    id: str,
    name: str,
    area: str,
    model: { type: 'string', enum: [...INSTANCE_MODELS] },
    bandwidthMbps: int,
    lanCidrs: strs,
    uplinks: { type: 'array', items: ref('Uplink') },
    state: { type: 'string', enum: ['unbound', 'bound', 'online', 'offline'] },
    ccnId: nullable(str),
    version,
  }),
  Device: closed({
    serial: str,
    model: { type: 'string', enum: [...INSTANCE_MODELS] },
    publicKey: { ...str, description: 'WireGuard public key; empty until the device activates' },
    softwareVersion: str,
    lastSeen: nullable(int),
    instanceId: nullable(str),
    version,
  }),
  Ccn: closed({ id: str, name: str, area: str, cidrs: strs, cenId: nullable(str), version }),
  Grant: closed({ areas: { type: 'array', items: str, minItems: 2, maxItems: 2 }, mbps: int }),
  Cen: closed({ id: str, name: str, grants: { type: 'array', items: ref('Grant') }, version }),
  Vpc: closed({ id: str, name: str, region: str, cidrs: strs, cenId: nullable(str), version }),
  Route: closed({
    cidr: str,
    target: {
      type: 'object',
      properties: { kind: { type: 'string', enum: ['instance', 'ccn', 'vpc'] }, id: str, ccnId: str },
      required: ['kind', 'id'],
      additionalProperties: false,
    },
    area: str,
    grantMbps: nullable(int),
  }),
  CompiledUplink: closed({
    name: str,
    kind: { type: 'string', enum: ['wired', 'lte'] },
    priority: int,
    weight: int,
  }),
  DevicePeer: closed({
    accessPointId: str,
    publicKey: str,
    endpoints: strs,
    persistentKeepaliveSec: int,
    rank: int,
  }),
  DeviceConfig: closed({
    kind: { type: 'string', enum: ['device'] },
    version: {
      ...str,
      description: 'Content version: SHA-256 of the configuration; equal versions mean equal content',
    },
    modelVersion: { ...int, description: 'Model version the configuration was compiled from (informative)' },
    serial: str,
    publicKey: str,
    instance: closed({
      id: str,
      area: str,
      model: { type: 'string', enum: [...INSTANCE_MODELS] },
      bandwidthMbps: int,
    }),
    ccnId: nullable(str),
    address: { ...str, description: 'Tunnel address with host prefix' },
    uplinks: { type: 'array', items: ref('CompiledUplink') },
    allowedIps: strs,
    routes: { type: 'array', items: ref('Route') },
    peers: { type: 'array', items: ref('DevicePeer') },
  }),
  HubPeer: closed({
    serial: str,
    publicKey: str,
    instanceId: str,
    ccnId: str,
    address: str,
    allowedIps: strs,
    bandwidthMbps: int,
  }),
  ForwardingRule: closed({
    ccnId: str,
    to: closed({ kind: { type: 'string', enum: ['ccn', 'vpc'] }, id: str }),
    reason: str,
    cidrs: strs,
    grantMbps: nullable(int),
  }),
  AccessPointConfig: closed({
    kind: { type: 'string', enum: ['accessPoint'] },
    version: {
      ...str,
      description: 'Content version: SHA-256 of the configuration; equal versions mean equal content',
    },
    modelVersion: int,
    accessPointId: str,
    area: str,
    endpoints: strs,
    maxInstances: int,
    peers: { type: 'array', items: ref('HubPeer') },
    policy: { type: 'array', items: ref('ForwardingRule') },
  }),
  AccessPointConfigAnswer: { oneOf: [ref('AccessPointConfig'), ref('ConfigUnchanged')] },
  ConfigUnchanged: closed({ unchanged: { type: 'boolean', enum: [true] }, version: str }),
  DeviceConfigAnswer: { oneOf: [ref('DeviceConfig'), ref('ConfigUnchanged')] },
  ActivationCode: closed({
    serial: str,
    code: { ...str, description: 'One-time activation code; shown only this once' },
    createdAt: int,
    expiresAt: int,
    usedAt: nullable(int),
  }),
  DeviceStatus: closed({
    serial: str,
    lastSeen: nullable(int),
    receivedAt: nullable(int),
    report: nullable({
      type: 'object',
      description: 'The last report as sent (see the reportDeviceStatus body)',
    }),
  }),
  DeviceRegistration: closed({
    device: ref('Device'),
    token: { ...str, description: 'Device bearer token; shown only once' },
  }),
  DeviceBinding: closed({ device: ref('Device'), instance: nullable(ref('Instance')) }),
  CenAttachments: closed({
    version: int,
    ccns: { type: 'array', items: ref('Ccn') },
    vpcs: { type: 'array', items: ref('Vpc') },
  }),
  ApiKey: closed({ id: str, name: str, createdAt: int, revokedAt: nullable(int) }),
  NewApiKey: closed({ key: ref('ApiKey'), token: { ...str, description: 'Bearer token; shown only once' } }),
  Token: closed({ token: str }),
  AuditEntry: closed({
    seq: int,
    version: int,
    at: int,
    actor: str,
    command: { type: 'object', description: 'The command or credential event' },
  }),
  AuditPage: closed({ items: { type: 'array', items: ref('AuditEntry') } }),
  Health: closed({ status: { type: 'string', enum: ['ok'] }, version: int }),
};
