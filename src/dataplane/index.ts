export { Dataplane } from './dataplane.js';
export type * from './types.js';
export type {
  SelectionClass,
  SelectionMode,
  SelectionPath,
  SelectionTable,
  TrafficMatch,
} from './selection.js';
