/**
 * The control-plane model: `applyCommand` is a pure function of (state, command)
 * returning the next state and the entity changes; `SagModel` wraps it with the
 * current state and an id generator for callers that do not track state themselves.
 *
 * A store runs `applyCommand` inside a transaction, writes `changes` and the new
 * `version`, and commits; on a ModelError it rolls back, and since the function
 * never mutates its input, the in-memory state needs no rollback at all.
 */
import { DEFAULT_AREAS } from './areas.js';
import { ChangeSet, applyChanges, type Change } from './changes.js';
import { ModelConflictError, ModelInvalidError } from './errors.js';
import { randomIds, type IdGenerator } from './ids.js';
import * as edge from './ops-edge.js';
import type { Cmd } from './ops-edge.js';
import * as net from './ops-network.js';
import { instanceRoutes } from './routes.js';
import { assertCcnSpace, assertCenSpace } from './space.js';
import type {
  AccessPoint,
  AreaDefinition,
  Ccn,
  Cen,
  Command,
  CommandKind,
  IdPrefix,
  ModelState,
  Route,
  SagInstance,
  VpcNetwork,
} from './types.js';

type Handler<K extends CommandKind> = (state: ModelState, command: Cmd<K>, cs: ChangeSet) => void;

const HANDLERS: { [K in CommandKind]: Handler<K> } = {
  'area.create': edge.areaCreate,
  'area.setRegions': edge.areaSetRegions,
  'area.delete': edge.areaDelete,
  'accessPoint.create': edge.accessPointCreate,
  'accessPoint.update': edge.accessPointUpdate,
  'accessPoint.delete': edge.accessPointDelete,
  'instance.create': edge.instanceCreate,
  'instance.update': edge.instanceUpdate,
  'instance.delete': edge.instanceDelete,
  'instance.setOffline': edge.instanceSetOffline,
  'instance.expire': edge.instanceExpire,
  'device.register': edge.deviceRegister,
  'device.update': edge.deviceUpdate,
  'device.delete': edge.deviceDelete,
  'device.bind': edge.deviceBind,
  'device.unbind': edge.deviceUnbind,
  'device.heartbeat': edge.deviceHeartbeat,
  'ccn.create': net.ccnCreate,
  'ccn.update': net.ccnUpdate,
  'ccn.delete': net.ccnDelete,
  'ccn.join': net.ccnJoin,
  'ccn.leave': net.ccnLeave,
  'cen.create': net.cenCreate,
  'cen.update': net.cenUpdate,
  'cen.delete': net.cenDelete,
  'cen.attachCcn': net.cenAttachCcn,
  'cen.detachCcn': net.cenDetachCcn,
  'cen.attachVpc': net.cenAttachVpc,
  'cen.detachVpc': net.cenDetachVpc,
  'cen.setGrant': net.cenSetGrant,
  'cen.removeGrant': net.cenRemoveGrant,
  'vpc.create': net.vpcCreate,
  'vpc.update': net.vpcUpdate,
  'vpc.delete': net.vpcDelete,
};

export interface ApplyResult {
  state: ModelState;
  /** Entities written or deleted, in command order; empty when the command was a no-op. */
  changes: Change[];
}

/**
 * Applies one command. Throws a ModelError on refusal; the input state is never
 * modified, so a refused command changes nothing. A command that changes nothing
 * returns the very same state object with the same version.
 */
export function applyCommand(state: ModelState, command: Command): ApplyResult {
  if (
    typeof command !== 'object' ||
    command === null ||
    !Object.hasOwn(HANDLERS, (command as { kind?: unknown }).kind as string)
  ) {
    const kind =
      typeof command === 'object' && command !== null ? (command as { kind?: unknown }).kind : command;
    throw new ModelInvalidError(`unknown command ${JSON.stringify(kind)}`);
  }
  const cs = new ChangeSet(state);
  (HANDLERS[command.kind] as Handler<CommandKind>)(state, command, cs);
  const result = applyChanges(state, cs.changes);
  // Overlap rules are checked on the candidate state, which is discarded if they fail.
  for (const id of cs.scopes.ccns) assertCcnSpace(result.state, id);
  for (const id of cs.scopes.cens) assertCenSpace(result.state, id);
  return result;
}

/** Applies commands in order; all or nothing. */
export function applyCommands(state: ModelState, commands: readonly Command[]): ApplyResult {
  let current = state;
  const changes: Change[] = [];
  for (const command of commands) {
    const result = applyCommand(current, command);
    current = result.state;
    changes.push(...result.changes);
  }
  return { state: current, changes };
}

/** An empty model holding only the area catalogue, at version 0. Refuses a bad catalogue. */
export function createState(areas: readonly AreaDefinition[] = DEFAULT_AREAS): ModelState {
  const empty: ModelState = {
    schema: 1,
    version: 0,
    areas: {},
    accessPoints: {},
    instances: {},
    devices: {},
    ccns: {},
    cens: {},
    vpcs: {},
  };
  const seeded = applyCommands(
    empty,
    areas.map((a) => ({ kind: 'area.create', name: a.name, regions: [...a.regions] })),
  ).state;
  // The catalogue is the starting point, not a change: everything starts at version 0.
  const stamped = Object.fromEntries(Object.entries(seeded.areas).map(([k, a]) => [k, { ...a, version: 0 }]));
  return { ...seeded, version: 0, areas: stamped };
}

type CreateKind = 'accessPoint.create' | 'instance.create' | 'ccn.create' | 'cen.create' | 'vpc.create';

const CREATE_PREFIX: Record<CreateKind, IdPrefix> = {
  'accessPoint.create': 'ap',
  'instance.create': 'sag',
  'ccn.create': 'ccn',
  'cen.create': 'cen',
  'vpc.create': 'vpc',
};

const COLLECTION_OF: Record<CreateKind, 'accessPoints' | 'instances' | 'ccns' | 'cens' | 'vpcs'> = {
  'accessPoint.create': 'accessPoints',
  'instance.create': 'instances',
  'ccn.create': 'ccns',
  'cen.create': 'cens',
  'vpc.create': 'vpcs',
};

/** A command as a caller writes it: create commands may leave `id` out to have one generated. */
export type CommandInput =
  | Exclude<Command, { kind: CreateKind }>
  | { [K in CreateKind]: Omit<Cmd<K>, 'id'> & { id?: string } }[CreateKind];

type CreateInput<K extends CreateKind> = Omit<Cmd<K>, 'id' | 'kind'> & { id?: string };

export interface SagModelOptions {
  /** Area catalogue for a fresh model; ignored when `state` is given. */
  areas?: readonly AreaDefinition[];
  /** Resume from a stored state (e.g. JSON loaded from the store). */
  state?: ModelState;
  ids?: IdGenerator;
}

export class SagModel {
  #state: ModelState;
  readonly #ids: IdGenerator;

  constructor(options: SagModelOptions = {}) {
    this.#state = options.state ?? createState(options.areas);
    this.#ids = options.ids ?? randomIds();
  }

  /** Current state. Treat it as immutable: the model shares unchanged records between versions. */
  get state(): ModelState {
    return this.#state;
  }

  get version(): number {
    return this.#state.version;
  }

  /** Fills in generated ids, so the returned command replays to the same state. */
  resolve(input: CommandInput): Command {
    if (typeof input !== 'object' || input === null) return input as Command;
    if (!Object.hasOwn(CREATE_PREFIX, input.kind) || (input as { id?: unknown }).id !== undefined)
      return input as Command;
    const kind = input.kind as CreateKind;
    const record = this.#state[COLLECTION_OF[kind]];
    // A sequential generator resumed over a loaded state may hand out taken ids; skip them.
    for (let attempt = 0; attempt < 100; attempt++) {
      const id = this.#ids(CREATE_PREFIX[kind]);
      if (!Object.hasOwn(record, id)) return { ...input, id } as Command;
    }
    throw new ModelConflictError(`could not generate a free ${CREATE_PREFIX[kind]} id after 100 attempts`);
  }

  /** Resolves, applies and commits one command; on refusal throws and keeps the current state. */
  dispatch(input: CommandInput): ApplyResult & { command: Command } {
    const command = this.resolve(input);
    const result = applyCommand(this.#state, command);
    this.#state = result.state;
    return { ...result, command };
  }

  #create<K extends CreateKind>(kind: K, input: CreateInput<K>): string {
    const command = this.dispatch({ ...input, kind } as unknown as CommandInput).command;
    return (command as { id: string }).id;
  }

  createAccessPoint(input: CreateInput<'accessPoint.create'>): AccessPoint {
    const id = this.#create('accessPoint.create', input);
    return this.#state.accessPoints[id] as AccessPoint;
  }

  createInstance(input: CreateInput<'instance.create'>): SagInstance {
    const id = this.#create('instance.create', input);
    return this.#state.instances[id] as SagInstance;
  }

  createCcn(input: CreateInput<'ccn.create'>): Ccn {
    const id = this.#create('ccn.create', input);
    return this.#state.ccns[id] as Ccn;
  }

  createCen(input: CreateInput<'cen.create'>): Cen {
    const id = this.#create('cen.create', input);
    return this.#state.cens[id] as Cen;
  }

  createVpc(input: CreateInput<'vpc.create'>): VpcNetwork {
    const id = this.#create('vpc.create', input);
    return this.#state.vpcs[id] as VpcNetwork;
  }

  /** Routes a CCN member gets; see routes.ts. */
  routes(instanceId: string): Route[] {
    return instanceRoutes(this.#state, instanceId);
  }
}
