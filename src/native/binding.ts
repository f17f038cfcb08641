/**
 * Locates and loads the compiled addon. The raw handle stays private to src/dataplane: everything
 * else goes through the validating Dataplane class.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SagError } from '../errors.js';
import type { NativeAddon } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Package root: this file lives in src/native (tsx) or dist/native (compiled). */
export const packageRoot = resolve(here, '..', '..');

let cached: NativeAddon | undefined;

export class AddonLoadError extends SagError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SAG_ADDON_LOAD', message, options);
  }
}

/**
 * Loads the addon once per module instance. SAG_ADDON_PATH points at another build of it
 * (an ASan build in CI, for instance).
 */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const candidates = process.env.SAG_ADDON_PATH
    ? [resolve(process.env.SAG_ADDON_PATH)]
    : [join(packageRoot, 'build', 'Release', 'sag.node'), join(packageRoot, 'build', 'Debug', 'sag.node')];
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new AddonLoadError(
      `the native addon is not built (looked for ${candidates.join(', ')}); run \`npm install\` or \`npm run build:addon\``,
    );
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(path) as NativeAddon;
  } catch (cause) {
    throw new AddonLoadError(`the native addon at ${path} failed to load: ${(cause as Error).message}`, { cause });
  }
  return cached;
}
