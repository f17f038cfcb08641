/**
 * Locates and loads the compiled addon. The raw handle stays private to src/dataplane: everything
 * else goes through the validating Dataplane class.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { SagError } from '../errors.js';
import { DROP_REASONS, LIMITS } from './facts.generated.js';
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
  let addon: NativeAddon;
  try {
    addon = require(path) as NativeAddon;
  } catch (cause) {
    throw new AddonLoadError(`the native addon at ${path} failed to load: ${(cause as Error).message}`, { cause });
  }
  checkAddonFacts(addon, path);
  cached = addon;
  return cached;
}

/**
 * The drop reasons and limits the addon was compiled with must be those TypeScript was generated
 * from (both come from sag.h): otherwise counters would be misnamed and limits misjudged.
 */
export function checkAddonFacts(addon: Pick<NativeAddon, 'dropReasons' | 'limits'>, path: string): void {
  const mismatch = (what: string, built: unknown, generated: unknown) =>
    new AddonLoadError(
      `the native addon at ${path} was built from another sag.h than src/native/facts.generated.ts: ` +
        `its ${what} are ${JSON.stringify(built)}, TypeScript has ${JSON.stringify(generated)}; ` +
        'run `npm run build` (addon and TypeScript)',
    );
  if (!isDeepStrictEqual(addon.dropReasons, [...DROP_REASONS]))
    throw mismatch('drop reasons', addon.dropReasons, DROP_REASONS);
  if (!isDeepStrictEqual(addon.limits, { ...LIMITS })) throw mismatch('limits', addon.limits, LIMITS);
}
