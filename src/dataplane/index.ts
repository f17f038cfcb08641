export { Dataplane } from './dataplane.js';
export type * from './types.js';
