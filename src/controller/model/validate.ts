/**
 * Field-level validation. Commands may arrive from JSON over an API, so every
 * check also guards the runtime type rather than trusting the TypeScript one.
 * Each validator returns the canonical value to store, or throws a ModelError
 * whose message starts with the object the field belongs to.
 */
import {
  findOverlap,
  formatCidr,
  formatEndpoint,
  isDiallable,
  isPrivateCidr,
  parseCidr,
  parseEndpoint,
  type Cidr,
} from '../../net/cidr.js';
import {
  AREA_NAME_PATTERN,
  MAX_MBPS,
  SERIAL_PATTERN,
  WG_KEY_PATTERN,
  WG_ZERO_KEY,
} from '../../contract/ids.js';
import { ModelCidrOverlapError, ModelInvalidError, ModelStateError } from './errors.js';
import {
  INSTANCE_MODELS,
  type InstanceModel,
  type InstanceState,
  type Uplink,
  type UplinkKind,
} from './types.js';

export const LIMITS = {
  nameLength: 128,
  ccnCidrs: 5,
  maxMbps: MAX_MBPS,
  maxInstancesPerAccessPoint: 1_000_000,
  uplinkPriorityMin: 1,
  uplinkPriorityMax: 50,
  uplinkUnused: -1,
  uplinkWeightMin: 1,
  uplinkWeightMax: 100,
} as const;

export function validateName(owner: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > LIMITS.nameLength) {
    throw new ModelInvalidError(`${owner}: name must be 1 to ${LIMITS.nameLength} characters`);
  }
  // Control characters and padding would make names that look equal differ.
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(name) || name.trim() !== name) {
    throw new ModelInvalidError(
      `${owner}: name ${JSON.stringify(name)} has control characters or leading/trailing spaces`,
    );
  }
  return name;
}

export function validateAreaName(name: unknown): string {
  if (typeof name !== 'string' || !AREA_NAME_PATTERN.test(name)) {
    throw new ModelInvalidError(
      `area name ${JSON.stringify(name)} must be lowercase letters, digits and "-", starting with a letter, at most 32 characters`,
    );
  }
  return name;
}

export function validateRegionId(owner: string, region: unknown): string {
  if (typeof region !== 'string' || region.length > 64 || !/^[a-z][a-z0-9]*(-[a-z0-9]+)+$/.test(region)) {
    throw new ModelInvalidError(
      `${owner}: region ${JSON.stringify(region)} is not a region id such as "cn-hangzhou"`,
    );
  }
  return region;
}

export function validateSerial(serial: unknown): string {
  if (typeof serial !== 'string' || !SERIAL_PATTERN.test(serial)) {
    throw new ModelInvalidError(
      `device serial ${JSON.stringify(serial)} must be 1 to 64 letters, digits or "-"`,
    );
  }
  return serial;
}

export function validateInstanceModel(owner: string, model: unknown): InstanceModel {
  if (!INSTANCE_MODELS.includes(model as InstanceModel)) {
    throw new ModelInvalidError(
      `${owner}: model ${JSON.stringify(model)} must be one of ${INSTANCE_MODELS.join(', ')}`,
    );
  }
  return model as InstanceModel;
}

export function validateInteger(
  owner: string,
  field: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ModelInvalidError(
      `${owner}: ${field} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function validateMbps(owner: string, field: string, value: unknown): number {
  return validateInteger(owner, field, value, 1, LIMITS.maxMbps);
}

/** Timestamps are caller-supplied milliseconds since the epoch; the model never reads a clock. */
export function validateTimestamp(owner: string, field: string, value: unknown): number {
  return validateInteger(owner, field, value, 0, Number.MAX_SAFE_INTEGER);
}

export function validateSoftwareVersion(owner: string, version: unknown): string {
  if (typeof version !== 'string' || !/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/.test(version)) {
    throw new ModelInvalidError(
      `${owner}: software version ${JSON.stringify(version)} must be 1 to 64 characters of letters, digits and . + _ -`,
    );
  }
  return version;
}

/** A WireGuard key (contract/ids.ts), not the all-zero one. */
export function validatePublicKey(owner: string, key: unknown): string {
  if (typeof key !== 'string' || !WG_KEY_PATTERN.test(key)) {
    throw new ModelInvalidError(
      `${owner}: public key must be a WireGuard key (base64 of 32 bytes, 44 characters ending in "=")`,
    );
  }
  if (key === WG_ZERO_KEY) throw new ModelInvalidError(`${owner}: public key is all zeros`);
  return key;
}

export function validateStringArray(owner: string, field: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new ModelInvalidError(`${owner}: ${field} must be a list of strings`);
  }
  return value as string[];
}

export function parseCidrOrThrow(owner: string, text: unknown): Cidr {
  if (typeof text !== 'string')
    throw new ModelInvalidError(`${owner}: CIDR ${JSON.stringify(text)} is not a string`);
  const parsed = parseCidr(text);
  if (!parsed.ok) {
    const hint = parsed.canonical ? ` (did you mean ${parsed.canonical}?)` : '';
    throw new ModelInvalidError(
      `${owner}: ${JSON.stringify(text)} is not a valid CIDR: ${parsed.reason}${hint}`,
    );
  }
  return parsed.cidr;
}

export interface CidrListOptions {
  max?: number;
  privateOnly?: boolean;
}

/** Parses, canonicalises and checks one owner's CIDR list, including overlaps within the list. */
export function validateCidrList(
  owner: string,
  field: string,
  value: unknown,
  options: CidrListOptions = {},
): string[] {
  const texts = validateStringArray(owner, field, value);
  if (options.max !== undefined && texts.length > options.max) {
    throw new ModelInvalidError(`${owner}: at most ${options.max} ${field} allowed, got ${texts.length}`);
  }
  const cidrs = texts.map((text) => parseCidrOrThrow(owner, text));
  if (options.privateOnly) {
    for (const cidr of cidrs) {
      if (!isPrivateCidr(cidr)) {
        throw new ModelInvalidError(
          `${owner}: ${formatCidr(cidr)} is not private address space (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 or fc00::/7)`,
        );
      }
    }
  }
  const clash = findOverlap(cidrs.map((cidr) => ({ cidr, label: formatCidr(cidr) })));
  if (clash) {
    throw new ModelCidrOverlapError(`${owner}: ${field} ${clash[0].label} and ${clash[1].label} overlap`);
  }
  return cidrs.map(formatCidr);
}

export function validateEndpoints(owner: string, value: unknown): string[] {
  const texts = validateStringArray(owner, 'endpoints', value);
  if (texts.length === 0) throw new ModelInvalidError(`${owner}: at least one public endpoint is required`);
  const out: string[] = [];
  for (const text of texts) {
    const endpoint = parseEndpoint(text);
    if (!endpoint) {
      throw new ModelInvalidError(
        `${owner}: endpoint ${JSON.stringify(text)} must be "a.b.c.d:port" or "[ipv6]:port" with port 1-65535`,
      );
    }
    if (!isDiallable(endpoint.address)) {
      throw new ModelInvalidError(
        `${owner}: endpoint ${JSON.stringify(text)} is an unspecified, multicast or reserved address`,
      );
    }
    const canonical = formatEndpoint(endpoint);
    if (out.includes(canonical))
      throw new ModelInvalidError(`${owner}: endpoint ${canonical} is listed twice`);
    out.push(canonical);
  }
  return out;
}

const UPLINK_KINDS: readonly UplinkKind[] = ['wired', 'lte'];

export function validateUplinks(owner: string, value: unknown): Uplink[] {
  if (!Array.isArray(value)) throw new ModelInvalidError(`${owner}: uplinks must be a list`);
  const seen = new Set<string>();
  return value.map((raw: unknown, index): Uplink => {
    if (typeof raw !== 'object' || raw === null)
      throw new ModelInvalidError(`${owner}: uplink #${index + 1} is not an object`);
    const u = raw as Record<string, unknown>;
    const name = u['name'];
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(name)) {
      throw new ModelInvalidError(
        `${owner}: uplink #${index + 1} name ${JSON.stringify(name)} must be 1 to 32 letters, digits or . _ -`,
      );
    }
    if (seen.has(name)) throw new ModelInvalidError(`${owner}: uplink name ${name} is used twice`);
    seen.add(name);
    const kind = u['kind'];
    if (!UPLINK_KINDS.includes(kind as UplinkKind)) {
      throw new ModelInvalidError(
        `${owner}: uplink ${name} kind ${JSON.stringify(kind)} must be one of ${UPLINK_KINDS.join(', ')}`,
      );
    }
    const priority = u['priority'];
    if (priority !== LIMITS.uplinkUnused) {
      validateInteger(
        `${owner}: uplink ${name}`,
        'priority (or -1 for unused)',
        priority,
        LIMITS.uplinkPriorityMin,
        LIMITS.uplinkPriorityMax,
      );
    }
    const weight = validateInteger(
      `${owner}: uplink ${name}`,
      'weight',
      u['weight'],
      LIMITS.uplinkWeightMin,
      LIMITS.uplinkWeightMax,
    );
    return { name, kind: kind as UplinkKind, priority: priority as number, weight };
  });
}

/**
 * Uplinks in the order the dataplane should prefer them, unused ones (-1) left out.
 * LTE goes last whatever its priority because it is metered and slow; ties keep
 * the configured order so equal-priority uplinks can share by weight.
 */
export function orderUplinks(uplinks: readonly Uplink[]): Uplink[] {
  return uplinks
    .map((uplink, index) => ({ uplink, index }))
    .filter(({ uplink }) => uplink.priority !== LIMITS.uplinkUnused)
    .sort((a, b) => {
      const lteA = a.uplink.kind === 'lte' ? 1 : 0;
      const lteB = b.uplink.kind === 'lte' ? 1 : 0;
      if (lteA !== lteB) return lteA - lteB;
      if (a.uplink.priority !== b.uplink.priority) return a.uplink.priority - b.uplink.priority;
      return a.index - b.index;
    })
    .map(({ uplink }) => uplink);
}

/**
 * Allowed instance state transitions. A device binding makes an instance "bound";
 * its first heartbeat makes it "online". Unbinding an online instance is refused so
 * a live branch is not cut off by accident: mark it offline first.
 */
export const INSTANCE_TRANSITIONS: Readonly<Record<InstanceState, readonly InstanceState[]>> = {
  unbound: ['bound'],
  bound: ['online', 'unbound'],
  online: ['offline'],
  offline: ['online', 'unbound'],
};

export function canTransition(from: InstanceState, to: InstanceState): boolean {
  return INSTANCE_TRANSITIONS[from].includes(to);
}

export function assertTransition(
  owner: string,
  subject: string,
  from: InstanceState,
  to: InstanceState,
  hint = '',
): void {
  if (!canTransition(from, to)) {
    const allowed = INSTANCE_TRANSITIONS[from].join(' or ');
    throw new ModelStateError(
      `${owner} cannot go from ${from} to ${to} (from ${from} it may only become ${allowed})${hint}`,
      [subject],
    );
  }
}
