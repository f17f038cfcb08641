/**
 * Where the operator CLI and `sag controller` take an API key from: --api-key-file FILE, else
 * $SAG_API_KEY. Never argv (see secret-flag.ts): `--api-key KEY` is refused with this pointer.
 */
import type { FlagSpec, ParsedArgs } from '../args.js';
import { readSecretFlag, refusedSecretFlag } from '../secret-flag.js';

export const API_KEY_SOURCES = '--api-key-file FILE or $SAG_API_KEY';

/** The --api-key-file flag (help saying what the key is for) and the refused --api-key. */
export function apiKeyFlags(help: string): FlagSpec[] {
  return [
    { name: 'api-key-file', kind: 'string', value: 'FILE', help },
    refusedSecretFlag('api-key', API_KEY_SOURCES),
  ];
}

/**
 * The key from --api-key-file (a file others may read draws a warning on stderr), else from
 * $SAG_API_KEY; undefined when neither gives one. An empty variable counts as unset:
 * `SAG_API_KEY= sag ...` should not send "Bearer ".
 */
export function readApiKey(
  args: ParsedArgs,
  io: { env: Record<string, string | undefined>; stderr: { write(text: string): unknown } },
  command: string,
): string | undefined {
  const file = args.string('api-key-file');
  if (file === undefined) return io.env['SAG_API_KEY'] || undefined;
  return readSecretFlag(file, 'API key file', command, (m) => io.stderr.write(`Warning: ${m}\n`));
}
