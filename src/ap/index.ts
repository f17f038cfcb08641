/** Access point (hub) mode: `sag ap`. See access-point.ts. */
export {
  AccessPoint,
  type AccessPointEvents,
  type AccessPointOptions,
  type AccessPointStatus,
} from './access-point.js';
export { ConfigFollower, type FollowerOptions, type FollowState, type RetryOptions } from './follow.js';
export {
  HubApplier,
  type HubApplyResult,
  type HubGateway,
  type HubNames,
  type HubOptions,
  type SpaceFailure,
} from './hub.js';
export { CcnSpace, type CcnSpaceNames, type VpcLinkPlan } from './ccn-space.js';
export { renderPolicy, deniedCount } from './policy.js';
export { validateAccessPointConfig } from './validate-config.js';
export { ConfigRefusedError } from './errors.js';
export type { ApSystem } from './sys.js';
