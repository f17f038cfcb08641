export * from './constants.js';
export * from './errors.js';
export * from './crypto.js';
export * from './tai64n.js';
export * from './messages.js';
export * from './cookie.js';
export * from './noise.js';
export * from './timers.js';
