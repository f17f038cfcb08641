/** Public exports of sag. */
export * from './errors.js';
export { Dataplane } from './dataplane/index.js';
export type * from './dataplane/types.js';
