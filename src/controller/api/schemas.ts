/**
 * JSON Schemas of request bodies, path parameters and query strings. The same
 * objects validate requests (Fastify/Ajv) and describe them in the OpenAPI
 * document, so the two cannot disagree.
 *
 * The schemas bound shapes and sizes (types, lengths, list sizes, closed
 * objects) so nothing unbounded reaches the model; the model still owns the
 * meaning (CIDR syntax, private ranges, key format, overlap rules) and says
 * what is wrong in its own words, which the API returns as 400/409.
 * Every string has a maxLength and every object additionalProperties: false.
 */
import { CONFIG_VERSION_PATTERN } from '../../contract/ids.js';
import { INSTANCE_MODELS, LIMITS } from '../model/index.js';

export type JsonSchema = Record<string, unknown>;

export interface ObjectSchema extends JsonSchema {
  type: 'object';
  properties: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties: false;
}

export function object(
  properties: Record<string, JsonSchema>,
  required: string[] = Object.keys(properties),
  extra: JsonSchema = {},
): ObjectSchema {
  return { type: 'object', properties, required, additionalProperties: false, ...extra };
}

/** An object whose fields are all optional but which must name at least one (PATCH bodies). */
export function patch(properties: Record<string, JsonSchema>): ObjectSchema {
  return object(properties, [], { minProperties: 1 });
}

export const text = (maxLength: number, description?: string, minLength = 1): JsonSchema => ({
  type: 'string',
  minLength,
  maxLength,
  ...(description === undefined ? {} : { description }),
});
export const integer = (minimum: number, maximum: number, description?: string): JsonSchema => ({
  type: 'integer',
  minimum,
  maximum,
  ...(description === undefined ? {} : { description }),
});
export const list = (items: JsonSchema, maxItems: number, minItems = 0): JsonSchema => ({
  type: 'array',
  items,
  minItems,
  maxItems,
});

// ---- field schemas ---------------------------------------------------------

/** Generated or chosen entity ids: "sag-...", "ccn-...". The model checks the exact prefix. */
export const entityId = { type: 'string', minLength: 4, maxLength: 52, pattern: '^[a-z]{2,3}-[a-z0-9-]+$' };
export const name = text(LIMITS.nameLength, 'Display name; no control characters or surrounding spaces');
export const areaName = {
  type: 'string',
  minLength: 1,
  maxLength: 32,
  pattern: '^[a-z][a-z0-9-]*$',
  description: 'Area, e.g. "mainland"',
};
export const region = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description: 'Region id, e.g. "cn-hangzhou"',
};
export const serial = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9-]*$',
  description: 'Device serial number',
};
/** Longest IPv6 text (45 with an embedded IPv4) plus "/128". */
export const cidr = text(49, 'CIDR, e.g. "10.0.0.0/16"; must be canonical (no host bits)');
export const endpoint = text(64, 'Public "a.b.c.d:port" or "[v6]:port"');
export const mbps = integer(1, LIMITS.maxMbps, 'Mbit/s');
export const instanceModel = { type: 'string', enum: [...INSTANCE_MODELS] };
export const publicKey = text(44, 'WireGuard public key, base64 of 32 bytes', 44);
const hubKey = text(44, "The hub's WireGuard public key, base64 of 32 bytes", 44);
export const softwareVersion = text(64, 'Software version, e.g. "2.1.0"');

export const uplink = object({
  name: text(32, 'Unique within the instance, e.g. "wan1"'),
  kind: { type: 'string', enum: ['wired', 'lte'] },
  priority: integer(
    LIMITS.uplinkUnused,
    LIMITS.uplinkPriorityMax,
    '1..50, lower preferred; -1 = configured but unused',
  ),
  weight: integer(LIMITS.uplinkWeightMin, LIMITS.uplinkWeightMax, 'Share among uplinks of equal priority'),
});

const MAX_LIST = 64;
export const lanCidrs = list(cidr, MAX_LIST);
export const ccnCidrs = list(cidr, LIMITS.ccnCidrs);
export const vpcCidrs = list(cidr, MAX_LIST, 1);
export const uplinks = list(uplink, 16);
export const regions = list(region, 256, 1);
export const endpoints = list(endpoint, 16, 1);

// ---- path parameters ---------------------------------------------------------

export const idParams = object({ id: entityId });
export const nameParams = object({ name: areaName });
export const serialParams = object({ serial });
export const keyIdParams = object({
  id: { type: 'string', minLength: 5, maxLength: 40, pattern: '^key-[a-f0-9]+$' },
});
export const memberParams = object({ id: entityId, instanceId: entityId });
export const attachCcnParams = object({ id: entityId, ccnId: entityId });
export const attachVpcParams = object({ id: entityId, vpcId: entityId });
export const grantParams = object({ id: entityId, areaA: areaName, areaB: areaName });

/** Query values arrive as strings (type coercion is off so bodies are never coerced). */
export const auditQuery = object(
  {
    after: {
      type: 'string',
      maxLength: 15,
      pattern: '^[0-9]+$',
      description: 'Return entries after this sequence number',
    },
    limit: {
      type: 'string',
      maxLength: 4,
      pattern: '^[0-9]+$',
      description: 'At most this many entries (1..1000, default 100)',
    },
  },
  [],
);

// ---- bodies ------------------------------------------------------------------

export const bodies = {
  areaCreate: object({ name: areaName, regions }),
  areaUpdate: object({ regions }),
  accessPointCreate: object(
    {
      id: entityId,
      area: areaName,
      endpoints,
      maxInstances: integer(1, LIMITS.maxInstancesPerAccessPoint),
      publicKey: hubKey,
    },
    ['area', 'endpoints', 'maxInstances'],
  ),
  accessPointUpdate: patch({
    endpoints,
    maxInstances: integer(1, LIMITS.maxInstancesPerAccessPoint),
    publicKey: { oneOf: [hubKey, { type: 'null' }] },
  }),
  instanceCreate: object(
    { id: entityId, name, area: areaName, model: instanceModel, bandwidthMbps: mbps, lanCidrs, uplinks },
    ['name', 'area', 'model', 'bandwidthMbps', 'lanCidrs', 'uplinks'],
  ),
  instanceUpdate: patch({ name, bandwidthMbps: mbps, lanCidrs, uplinks }),
  /** Without publicKey the device awaits activation (POST /v1/devices/{serial}/activation, then /v1/activate). */
  deviceRegister: object({ serial, model: instanceModel, publicKey, softwareVersion }, [
    'serial',
    'model',
    'softwareVersion',
  ]),
  deviceUpdate: patch({ publicKey, softwareVersion }),
  deviceBind: object({ instanceId: entityId }),
  ccnCreate: object({ id: entityId, name, area: areaName, cidrs: ccnCidrs }, ['name', 'area', 'cidrs']),
  ccnUpdate: patch({ name, cidrs: ccnCidrs }),
  cenCreate: object({ id: entityId, name }, ['name']),
  cenUpdate: object({ name }),
  grant: object({ mbps }),
  vpcCreate: object({ id: entityId, name, region, cidrs: vpcCidrs }, ['name', 'region', 'cidrs']),
  vpcUpdate: patch({ name, cidrs: vpcCidrs }),
  apiKeyCreate: object({ name: text(128, 'What the key is for, e.g. "ci pipeline"') }),
  activationCreate: object(
    { ttlSeconds: integer(60, 30 * 24 * 3600, 'How long the code stays valid; default 86400 (a day)') },
    [],
  ),
  activate: object({
    serial,
    code: text(64, 'The activation code, e.g. "7K2QF-0M9XA-..."; case and dashes do not matter'),
    publicKey,
  }),
};

/** Long-poll of a device configuration; see routes-agent.ts. */
export const configQuery = object(
  {
    after: {
      type: 'string',
      pattern: CONFIG_VERSION_PATTERN.source,
      description: 'Content version the caller has; answer when the configuration differs from it',
    },
    wait: {
      type: 'string',
      maxLength: 4,
      pattern: '^[0-9]+$',
      description: 'Seconds to wait for a change (0..30, larger values count as 30); needs "after"',
    },
  },
  [],
);
