/** wg-quick style configuration files: parse with line-numbered errors, print back. */
export * from './errors.js';
export type * from './types.js';
export { parseConfig, interfaceNameFromPath } from './parse.js';
export { formatConfig } from './format.js';
export { isHostname } from './values.js';
