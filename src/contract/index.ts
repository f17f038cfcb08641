/**
 * The controller-device contract: everything that crosses between the controller
 * and the device agents, access points and operator CLI that talk to it.
 *
 *   config.ts    compiled device and access point configurations, and their changes
 *   version.ts   content versions, and how they travel (long poll: after / wait / unchanged)
 *   diff.ts      the steps from one configuration to the next
 *   status.ts    the device status report and its limits
 *   client.ts    the one HTTP client of the controller's API
 *   retry.ts     how a follower backs off while the controller cannot be asked
 *   errors.ts    what can go wrong between them
 *
 * The controller produces these shapes, the others consume them; neither side
 * defines them again. This package imports only src/util/, src/errors.ts and
 * src/net/.
 */
export type * from './config.js';
export * from './version.js';
export { diffConfigs } from './diff.js';
export * from './status.js';
export * from './client.js';
export * from './retry.js';
export * from './errors.js';
