/**
 * Copy-on-write change sets. A command handler validates against the current
 * state and returns the entities it wants to write or delete; only then is a new
 * state built, sharing every untouched record with the old one. The old state is
 * never mutated, so a refusal at any point leaves it exactly as it was.
 *
 * The change list is also what a store persists: one row per changed entity,
 * inside the same transaction that bumps the model version.
 */
import type { AccessPoint, Area, Ccn, Cen, ModelState, SagDevice, SagInstance, VpcNetwork } from './types.js';

export interface Collections {
  areas: Area;
  accessPoints: AccessPoint;
  instances: SagInstance;
  devices: SagDevice;
  ccns: Ccn;
  cens: Cen;
  vpcs: VpcNetwork;
}

export type CollectionName = keyof Collections;

export const COLLECTION_NAMES: readonly CollectionName[] = [
  'areas',
  'accessPoints',
  'instances',
  'devices',
  'ccns',
  'cens',
  'vpcs',
];

/** One entity written (value) or deleted (null). Values carry the new version. */
export type Change = {
  [C in CollectionName]: { collection: C; key: string; value: Collections[C] | null };
}[CollectionName];

/** Address-space checks a command needs once its changes are in place. */
export interface Scopes {
  ccns: string[];
  cens: string[];
}

function sameIgnoringVersion(a: object, b: object): boolean {
  // Handlers build new entities by spreading the old one, so key order matches
  // and JSON text is a sound equality test for these plain-data records.
  return JSON.stringify({ ...a, version: 0 }) === JSON.stringify({ ...b, version: 0 });
}

export class ChangeSet {
  private readonly byKey = new Map<string, Change>();
  readonly scopes: Scopes = { ccns: [], cens: [] };

  constructor(private readonly base: ModelState) {}

  /** Writes an entity; a write equal to what is stored is dropped so no-ops do not bump versions. */
  put<C extends CollectionName>(collection: C, key: string, value: Collections[C]): void {
    const record = this.base[collection] as Record<string, Collections[C]>;
    const old = Object.hasOwn(record, key) ? record[key] : undefined;
    const id = `${collection}/${key}`;
    if (old !== undefined && sameIgnoringVersion(old, value)) {
      this.byKey.delete(id);
      return;
    }
    this.byKey.set(id, { collection, key, value } as Change);
  }

  remove(collection: CollectionName, key: string): void {
    this.byKey.set(`${collection}/${key}`, { collection, key, value: null } as Change);
  }

  checkCcn(id: string | null): void {
    if (id !== null && !this.scopes.ccns.includes(id)) this.scopes.ccns.push(id);
  }

  checkCen(id: string | null): void {
    if (id !== null && !this.scopes.cens.includes(id)) this.scopes.cens.push(id);
  }

  get changes(): Change[] {
    return [...this.byKey.values()];
  }
}

/**
 * Builds the next state from a change set. Every written entity is stamped with
 * the new model version; an empty change set returns the same state object and
 * leaves the version alone.
 */
export function applyChanges(
  state: ModelState,
  changes: readonly Change[],
): { state: ModelState; changes: Change[] } {
  if (changes.length === 0) return { state, changes: [] };
  const version = state.version + 1;
  const next: ModelState = { ...state, version };
  const copied = new Set<CollectionName>();
  const stamped: Change[] = [];
  for (const change of changes) {
    if (!copied.has(change.collection)) {
      (next as unknown as Record<CollectionName, object>)[change.collection] = {
        ...state[change.collection],
      };
      copied.add(change.collection);
    }
    const record = next[change.collection] as Record<string, unknown>;
    if (change.value === null) {
      delete record[change.key];
      stamped.push(change);
    } else {
      const value = { ...change.value, version };
      record[change.key] = value;
      stamped.push({ ...change, value } as Change);
    }
  }
  return { state: next, changes: stamped };
}
