/** Access point (hub) mode: `sag ap`. See access-point.ts. */
export {
  AccessPoint,
  type AccessPointEvents,
  type AccessPointOptions,
  type AccessPointStatus,
} from './access-point.js';
export { HubApplier, type HubNames, type HubOptions } from './hub.js';
export { CcnSpace, type CcnSpaceNames, type VpcLinkPlan } from './ccn-space.js';
export { renderPolicy, deniedCount } from './policy.js';
