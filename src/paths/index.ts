export { PathMonitor } from './path-monitor.js';
export { PeerPaths, CAPABILITY_PATH_ID, DEFAULT_CLASS } from './peer-paths.js';
export { choose, eligible, type Candidate, type Choice } from './policy.js';
export * from './types.js';
