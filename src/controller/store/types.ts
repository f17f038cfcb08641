/**
 * The controller's storage contract. The HTTP API talks only to this interface,
 * so the embedded SQLite store can later be replaced by a networked database.
 *
 * Every method returns a Promise even though SQLite answers synchronously: a
 * networked implementation cannot, and callers written against Promises keep
 * working when it arrives.
 *
 * Rules every implementation keeps:
 * - `apply` is atomic: the entity writes, the version bump, the audit entry and
 *   any credential effect are committed together or not at all. A ModelError
 *   (refusal) or a StoreError leaves the stored data exactly as it was.
 * - Once `apply` resolves, the change is durable (survives a process kill).
 * - Secrets (API keys, device tokens) are returned in plain text exactly once, at
 *   creation; only their SHA-256 hashes are stored.
 * - A device's credential lives and dies with the device: `device.register`
 *   issues it in the same transaction, `device.delete` removes it together with
 *   the device's activation code and last status report.
 */
import type {
  Change,
  CollectionName,
  Collections,
  Command,
  CommandInput,
  ModelState,
} from '../model/index.js';

/** Who did something and when, for the audit log. `at` comes from the caller's clock. */
export interface ApplyContext {
  /** "apikey:<id>", "bootstrap", "system", ... */
  actor: string;
  /** Milliseconds since the Unix epoch. */
  at: number;
}

export interface ApplyOutcome {
  /** The command as applied, generated ids filled in; replaying it rebuilds the same state. */
  command: Command;
  state: ModelState;
  /** Model version after the command; unchanged when the command was a no-op. */
  version: number;
  /** Entities written or deleted; empty for a no-op (which is then neither stored nor audited). */
  changes: Change[];
  /** For `device.register`: the device's bearer token, shown only here. */
  deviceToken?: string;
}

export interface ApiKeyInfo {
  /** Public handle, "key-..."; safe to log and show. */
  id: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

/** Credential events are audited alongside model commands. Never contains a secret. */
export type CredentialEvent =
  | { kind: 'apiKey.create'; id: string; name: string }
  | { kind: 'apiKey.revoke'; id: string }
  | { kind: 'device.rotateToken'; serial: string }
  | { kind: 'accessPoint.rotateToken'; id: string }
  | { kind: 'device.createActivationCode'; serial: string; expiresAt: number }
  /** The device traded its activation code for a token (its key change, if any, is audited as device.update). */
  | { kind: 'device.activate'; serial: string };

/** An activation code's public facts; the code itself is returned once, at creation. */
export interface ActivationCodeInfo {
  serial: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface ActivationResult {
  /** The `device.update` that set the key (a no-op outcome if the key was already that one). */
  outcome: ApplyOutcome;
  /** The device's new bearer token, shown only here; any earlier token stops working. */
  token: string;
}

/** The last status report a device sent; what it contains is the API's business (see api/status.ts). */
export interface DeviceStatusRecord {
  serial: string;
  receivedAt: number;
  report: Record<string, unknown>;
}

/** A certificate and its private key, PEM; the key is a secret of the controller. */
export interface TlsPair {
  certPem: string;
  keyPem: string;
}

export interface AuditEntry {
  /** Increasing position in the log, starting at 1. */
  seq: number;
  /** Model version after the entry (for credential events, the version they happened at). */
  version: number;
  at: number;
  actor: string;
  command: Command | CredentialEvent;
}

export interface AuditQuery {
  /** Entries with seq greater than this; default 0. */
  after?: number;
  /** At most this many, default 100, capped at 1000. */
  limit?: number;
}

export const AUDIT_PAGE_MAX = 1000;

export interface ControllerStore {
  /** The whole model at the latest committed version. Shared and immutable: never modify it. */
  load(): Promise<ModelState>;
  /** Resolves generated ids, applies, persists. Throws ModelError on refusal, StoreError on storage failure. */
  apply(input: CommandInput, ctx: ApplyContext): Promise<ApplyOutcome>;
  get<C extends CollectionName>(collection: C, key: string): Promise<Collections[C] | undefined>;
  /** All entities of a collection, sorted by key. */
  list<C extends CollectionName>(collection: C): Promise<Collections[C][]>;

  /**
   * Creates an operator API key. `token` lets an operator choose the first key
   * (bootstrap); otherwise a random one is generated. Returns the token once.
   */
  createApiKey(
    input: { name: string; token?: string },
    ctx: ApplyContext,
  ): Promise<{ key: ApiKeyInfo; token: string }>;
  /** Every key, revoked ones included, oldest first. */
  listApiKeys(): Promise<ApiKeyInfo[]>;
  /** Keys that still authenticate. */
  countActiveApiKeys(): Promise<number>;
  /** Throws ApiKeyNotFoundError, or LastApiKeyError rather than lock every operator out. */
  revokeApiKey(id: string, ctx: ApplyContext): Promise<ApiKeyInfo>;
  /** The active key this token belongs to, or undefined. */
  authenticateApiKey(token: string): Promise<ApiKeyInfo | undefined>;

  /** Replaces a device's token (lost or leaked); the old one stops working. ModelNotFoundError if no such device. */
  rotateDeviceToken(serial: string, ctx: ApplyContext): Promise<string>;
  /** The serial of the device this token belongs to, or undefined. */
  authenticateDevice(token: string): Promise<string | undefined>;
  /**
   * Issues a new token for an access point (`sag ap` follows its configuration with it);
   * the old one stops working. ModelNotFoundError if no such access point.
   */
  rotateAccessPointToken(id: string, ctx: ApplyContext): Promise<string>;
  /** The id of the access point this token belongs to, or undefined. */
  authenticateAccessPoint(token: string): Promise<string | undefined>;

  /**
   * Creates the activation code of a registered device, replacing any earlier one.
   * Returns the code once; only its hash is stored. ModelNotFoundError if no such device.
   */
  createActivationCode(
    serial: string,
    input: { expiresAt: number },
    ctx: ApplyContext,
  ): Promise<{ code: string; info: ActivationCodeInfo }>;
  /**
   * Checks the code, sets the device's public key (`device.update`), issues a new token
   * and marks the code used, all in one transaction. Throws ActivationError on a wrong,
   * used or expired code and ModelError if the key is refused (malformed, taken); a
   * refusal changes nothing, the code included.
   */
  activateDevice(
    input: { serial: string; code: string; publicKey: string },
    ctx: ApplyContext,
  ): Promise<ActivationResult>;
  /** Replaces the device's last status report. ModelNotFoundError if no such device. */
  putDeviceStatus(serial: string, report: Record<string, unknown>, at: number): Promise<void>;
  getDeviceStatus(serial: string): Promise<DeviceStatusRecord | undefined>;

  /** A stored certificate and its private key (PEM), or undefined. */
  getTlsPair(name: string): Promise<TlsPair | undefined>;
  /**
   * Stores the pair unless one of that name exists; returns the stored one. Two
   * replicas creating the CA at once thus end up with the same (the first) CA.
   */
  putTlsPairIfAbsent(name: string, pair: TlsPair, at: number): Promise<TlsPair>;

  audit(query?: AuditQuery): Promise<AuditEntry[]>;
  close(): Promise<void>;
}
