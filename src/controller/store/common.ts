/**
 * Logic both store implementations share, so the in-memory double cannot drift
 * from the SQLite store on what a command does to credentials or the audit log.
 */
import {
  SagModel,
  applyCommand,
  type ApplyResult,
  type Change,
  type Command,
  type CommandInput,
  type IdGenerator,
  type ModelState,
} from '../model/index.js';
import { validatePublicKey } from '../model/validate.js';
import { checkActivation, type StoredActivation } from './activation.js';
import { StoreInvalidError } from './errors.js';
import { accessPointSubject } from './secrets.js';
import { AUDIT_PAGE_MAX, type ApplyContext, type AuditQuery } from './types.js';

export interface Planned {
  command: Command;
  result: ApplyResult;
  /** Device whose credential this command creates. */
  issueFor: string | undefined;
  /** Credential subjects this command removes: device serials, accessPointSubject(id). */
  revokeFor: string[];
}

/** Resolves ids and runs the model. Pure apart from the id generator; throws ModelError on refusal. */
export function planCommand(state: ModelState, input: CommandInput, ids: IdGenerator): Planned {
  const command = new SagModel({ state, ids }).resolve(input);
  const result = applyCommand(state, command);
  const revokeFor = result.changes
    .filter(
      (c: Change) => (c.collection === 'devices' || c.collection === 'accessPoints') && c.value === null,
    )
    .map((c) => (c.collection === 'accessPoints' ? accessPointSubject(c.key) : c.key));
  const issueFor =
    command.kind === 'device.register' && result.changes.length > 0 ? command.serial : undefined;
  return { command, result, issueFor, revokeFor };
}

export function checkContext(ctx: ApplyContext): void {
  if (typeof ctx?.actor !== 'string' || ctx.actor.length === 0 || ctx.actor.length > 200) {
    throw new StoreInvalidError('an audit actor must be 1 to 200 characters');
  }
  if (!Number.isSafeInteger(ctx.at) || ctx.at < 0)
    throw new StoreInvalidError(`audit time ${String(ctx.at)} is not a millisecond timestamp`);
}

export function auditWindow(query: AuditQuery = {}): { after: number; limit: number } {
  const after = query.after ?? 0;
  const limit = query.limit ?? 100;
  if (!Number.isSafeInteger(after) || after < 0)
    throw new StoreInvalidError(`audit "after" must be a whole number >= 0`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > AUDIT_PAGE_MAX) {
    throw new StoreInvalidError(`audit "limit" must be a whole number from 1 to ${AUDIT_PAGE_MAX}`);
  }
  return { after, limit };
}

export function sortedByKey<T>(record: Record<string, T>): T[] {
  return Object.keys(record)
    .sort()
    .map((k) => record[k] as T);
}

/**
 * Plans an activation: the code must match (ActivationError otherwise) and the key
 * must be one the model accepts; the returned plan is the `device.update` to commit
 * together with a new token and the code marked used.
 */
export function planActivation(
  state: ModelState,
  stored: StoredActivation | undefined,
  input: { serial: string; code: string; publicKey: string },
  at: number,
  ids: IdGenerator,
): Planned {
  checkActivation(stored, input.serial, input.code, at);
  // Checked here, not left to device.update: there an absent key would mean "keep the old one".
  const publicKey = validatePublicKey(`device ${input.serial}`, input.publicKey);
  return planCommand(state, { kind: 'device.update', serial: input.serial, publicKey }, ids);
}

export function checkExpiry(expiresAt: number, at: number): void {
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= at)
    throw new StoreInvalidError('an activation code must expire at a millisecond timestamp after now');
}
