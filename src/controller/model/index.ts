/** Public surface of the control-plane domain model. */
export * from './types.js';
export * from './errors.js';
export * from '../../net/cidr.js';
export { DEFAULT_AREAS } from './areas.js';
export { randomIds, sequentialIds, isValidId, type IdGenerator } from './ids.js';
export { LIMITS, INSTANCE_TRANSITIONS, canTransition, orderUplinks } from './validate.js';
export {
  find,
  get,
  areaOfRegion,
  vpcArea,
  ccnMembers,
  cenCcns,
  cenVpcs,
  deviceOfInstance,
  accessPointsInArea,
  instancesInArea,
  findGrant,
  areaReferrers,
  type Referrer,
} from './queries.js';
export { reach, ccnRoutes, instanceRoutes } from './routes.js';
export { checkInvariants } from './invariants.js';
export { COLLECTION_NAMES, type Change, type CollectionName, type Collections } from './changes.js';
export {
  SagModel,
  applyCommand,
  applyCommands,
  createState,
  type ApplyResult,
  type CommandInput,
  type SagModelOptions,
} from './model.js';
