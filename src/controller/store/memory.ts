/**
 * ControllerStore held in memory: the double for API and agent unit tests, and
 * a reference for what the contract means without SQL in the way.
 *
 * It keeps every rule of the interface (atomic apply, hashed secrets, credentials
 * tied to devices, last-key protection, audit entries for the same events), so a
 * test passing against it says something about the real store. It is not durable.
 * `failNextWrite` lets a test see how callers handle a full disk or a corrupt file.
 */
import {
  createState,
  get,
  randomIds,
  type AreaDefinition,
  type CollectionName,
  type Collections,
  type CommandInput,
  type IdGenerator,
  type ModelState,
} from '../model/index.js';
import { hashActivationCode, newActivationCode, type StoredActivation } from './activation.js';
import {
  auditWindow,
  checkContext,
  checkExpiry,
  planActivation,
  planCommand,
  sortedByKey,
  type Planned,
} from './common.js';
import { ApiKeyNotFoundError, LastApiKeyError, StoreClosedError, StoreInvalidError } from './errors.js';
import {
  ACCESS_POINT_TOKEN_PREFIX,
  API_KEY_PREFIX,
  DEVICE_TOKEN_PREFIX,
  accessPointOf,
  accessPointSubject,
  deviceOf,
  hashToken,
  isWellFormedToken,
  newKeyId,
  newToken,
  validateChosenToken,
  validateKeyName,
} from './secrets.js';
import type {
  ActivationCodeInfo,
  ActivationResult,
  ApiKeyInfo,
  ApplyContext,
  ApplyOutcome,
  AuditEntry,
  AuditQuery,
  ControllerStore,
  CredentialEvent,
  DeviceStatusRecord,
  TlsPair,
} from './types.js';

export interface MemoryStoreOptions {
  areas?: readonly AreaDefinition[];
  /** Start from this state instead of an empty model. */
  state?: ModelState;
  ids?: IdGenerator;
}

interface KeyRecord extends ApiKeyInfo {
  hash: string;
}

export class MemoryStore implements ControllerStore {
  #state: ModelState;
  readonly #ids: IdGenerator;
  readonly #keys = new Map<string, KeyRecord>();
  /** serial -> token hash */
  readonly #credentials = new Map<string, string>();
  readonly #activations = new Map<string, StoredActivation>();
  readonly #statuses = new Map<string, DeviceStatusRecord>();
  readonly #tlsPairs = new Map<string, TlsPair>();
  readonly #log: AuditEntry[] = [];
  #fault: Error | undefined;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#state = options.state ?? createState(options.areas);
    this.#ids = options.ids ?? randomIds();
  }

  /** The next write (apply, key or token change) throws `error` and changes nothing. */
  failNextWrite(error: Error): void {
    this.#fault = error;
  }

  async load(): Promise<ModelState> {
    return this.#open().#state;
  }

  async get<C extends CollectionName>(collection: C, key: string): Promise<Collections[C] | undefined> {
    const record = this.#open().#state[collection] as Record<string, Collections[C]>;
    return Object.hasOwn(record, key) ? record[key] : undefined;
  }

  async list<C extends CollectionName>(collection: C): Promise<Collections[C][]> {
    return sortedByKey(this.#open().#state[collection] as Record<string, Collections[C]>);
  }

  async apply(input: CommandInput, ctx: ApplyContext): Promise<ApplyOutcome> {
    this.#open();
    checkContext(ctx);
    const plan = planCommand(this.#state, input, this.#ids);
    if (plan.result.changes.length === 0) return outcome(plan);
    this.#takeFault();
    return this.#commit(plan, ctx);
  }

  /** Nothing in here can throw, which is what makes each write atomic. */
  #commit(plan: Planned, ctx: ApplyContext): ApplyOutcome {
    const out = outcome(plan);
    if (plan.result.changes.length === 0) return out;
    this.#state = plan.result.state;
    this.#audit(this.#state.version, ctx, plan.command);
    for (const serial of plan.revokeFor) {
      this.#credentials.delete(serial);
      this.#activations.delete(serial);
      this.#statuses.delete(serial);
    }
    if (plan.issueFor !== undefined) out.deviceToken = this.#issue(plan.issueFor);
    return out;
  }

  async createActivationCode(
    serial: string,
    input: { expiresAt: number },
    ctx: ApplyContext,
  ): Promise<{ code: string; info: ActivationCodeInfo }> {
    this.#open();
    checkContext(ctx);
    get.device(this.#state, serial);
    checkExpiry(input.expiresAt, ctx.at);
    this.#takeFault();
    const code = newActivationCode();
    const stored: StoredActivation = {
      codeHash: hashActivationCode(serial, code),
      createdAt: ctx.at,
      expiresAt: input.expiresAt,
      usedAt: null,
    };
    this.#activations.set(serial, stored);
    this.#audit(this.#state.version, ctx, {
      kind: 'device.createActivationCode',
      serial,
      expiresAt: input.expiresAt,
    });
    return { code, info: { serial, createdAt: ctx.at, expiresAt: input.expiresAt, usedAt: null } };
  }

  async activateDevice(
    input: { serial: string; code: string; publicKey: string },
    ctx: ApplyContext,
  ): Promise<ActivationResult> {
    this.#open();
    checkContext(ctx);
    const stored = this.#activations.get(input.serial);
    const plan = planActivation(this.#state, stored, input, ctx.at, this.#ids);
    this.#takeFault();
    const out = this.#commit(plan, ctx);
    (stored as StoredActivation).usedAt = ctx.at;
    this.#audit(this.#state.version, ctx, { kind: 'device.activate', serial: input.serial });
    return { outcome: out, token: this.#issue(input.serial) };
  }

  async putDeviceStatus(serial: string, report: Record<string, unknown>, at: number): Promise<void> {
    this.#open();
    get.device(this.#state, serial);
    this.#takeFault();
    this.#statuses.set(serial, { serial, receivedAt: at, report: structuredClone(report) });
  }

  async getTlsPair(name: string): Promise<TlsPair | undefined> {
    const pair = this.#open().#tlsPairs.get(name);
    return pair && { ...pair };
  }

  async putTlsPairIfAbsent(name: string, pair: TlsPair): Promise<TlsPair> {
    const pairs = this.#open().#tlsPairs;
    if (!pairs.has(name)) pairs.set(name, { ...pair });
    return { ...pairs.get(name)! };
  }

  async getDeviceStatus(serial: string): Promise<DeviceStatusRecord | undefined> {
    const record = this.#open().#statuses.get(serial);
    return record && structuredClone(record);
  }

  async createApiKey(
    input: { name: string; token?: string },
    ctx: ApplyContext,
  ): Promise<{ key: ApiKeyInfo; token: string }> {
    this.#open();
    checkContext(ctx);
    const name = validateKeyName(input.name);
    const token = input.token === undefined ? newToken(API_KEY_PREFIX) : validateChosenToken(input.token);
    const hash = hashToken(token);
    if ([...this.#keys.values()].some((k) => k.hash === hash))
      throw new StoreInvalidError('that API key is already in use');
    this.#takeFault();
    const key: ApiKeyInfo = { id: newKeyId(), name, createdAt: ctx.at, revokedAt: null };
    this.#keys.set(key.id, { ...key, hash });
    this.#audit(this.#state.version, ctx, { kind: 'apiKey.create', id: key.id, name });
    return { key, token };
  }

  async listApiKeys(): Promise<ApiKeyInfo[]> {
    this.#open();
    return [...this.#keys.values()].map(keyView);
  }

  async countActiveApiKeys(): Promise<number> {
    return [...this.#open().#keys.values()].filter((k) => k.revokedAt === null).length;
  }

  async revokeApiKey(id: string, ctx: ApplyContext): Promise<ApiKeyInfo> {
    this.#open();
    checkContext(ctx);
    const record = this.#keys.get(id);
    if (!record) throw new ApiKeyNotFoundError(id);
    if (record.revokedAt !== null) return keyView(record);
    if ((await this.countActiveApiKeys()) <= 1) throw new LastApiKeyError(id);
    this.#takeFault();
    record.revokedAt = ctx.at;
    this.#audit(this.#state.version, ctx, { kind: 'apiKey.revoke', id });
    return keyView(record);
  }

  async authenticateApiKey(token: string): Promise<ApiKeyInfo | undefined> {
    this.#open();
    if (!isWellFormedToken(token)) return undefined;
    const hash = hashToken(token);
    const record = [...this.#keys.values()].find((k) => k.hash === hash && k.revokedAt === null);
    return record && keyView(record);
  }

  async rotateDeviceToken(serial: string, ctx: ApplyContext): Promise<string> {
    this.#open();
    checkContext(ctx);
    get.device(this.#state, serial);
    this.#takeFault();
    const token = this.#issue(serial);
    this.#audit(this.#state.version, ctx, { kind: 'device.rotateToken', serial });
    return token;
  }

  async authenticateDevice(token: string): Promise<string | undefined> {
    return deviceOf(this.#subject(token));
  }

  async rotateAccessPointToken(id: string, ctx: ApplyContext): Promise<string> {
    this.#open();
    checkContext(ctx);
    get.accessPoint(this.#state, id);
    this.#takeFault();
    const token = newToken(ACCESS_POINT_TOKEN_PREFIX);
    this.#credentials.set(accessPointSubject(id), hashToken(token));
    this.#audit(this.#state.version, ctx, { kind: 'accessPoint.rotateToken', id });
    return token;
  }

  async authenticateAccessPoint(token: string): Promise<string | undefined> {
    return accessPointOf(this.#subject(token));
  }

  #subject(token: string): string | undefined {
    this.#open();
    if (!isWellFormedToken(token)) return undefined;
    const hash = hashToken(token);
    for (const [subject, stored] of this.#credentials) if (stored === hash) return subject;
    return undefined;
  }

  async audit(query?: AuditQuery): Promise<AuditEntry[]> {
    this.#open();
    const { after, limit } = auditWindow(query);
    return this.#log
      .filter((e) => e.seq > after)
      .slice(0, limit)
      .map((e) => structuredClone(e));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #open(): this {
    if (this.#closed) throw new StoreClosedError();
    return this;
  }

  #takeFault(): void {
    const fault = this.#fault;
    this.#fault = undefined;
    if (fault) throw fault;
  }

  #issue(serial: string): string {
    const token = newToken(DEVICE_TOKEN_PREFIX);
    this.#credentials.set(serial, hashToken(token));
    return token;
  }

  #audit(version: number, ctx: ApplyContext, command: AuditEntry['command'] | CredentialEvent): void {
    // Cloned so a caller mutating its command object later cannot rewrite history.
    this.#log.push({
      seq: this.#log.length + 1,
      version,
      at: ctx.at,
      actor: ctx.actor,
      command: structuredClone(command),
    });
  }
}

function outcome(plan: Planned): ApplyOutcome {
  const { state, changes } = plan.result;
  return { command: plan.command, state, version: state.version, changes };
}

function keyView(record: KeyRecord): ApiKeyInfo {
  return { id: record.id, name: record.name, createdAt: record.createdAt, revokedAt: record.revokedAt };
}
