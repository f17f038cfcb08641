/**
 * Flags that carry secrets take a file (or the environment), never the secret itself: a
 * command line is readable by every user of the machine (ps, /proc/PID/cmdline) and lands in
 * shell histories. The old value-taking flags are refused by name, so a script still passing
 * one learns where the secret goes now instead of reading "unknown option".
 */
import { InvalidArgumentError } from '../errors.js';
import { readSecretFile, type Warn } from '../util/secret-file.js';
import { UsageError, type FlagSpec } from './args.js';

/** `--name SECRET`, refused with a pointer to `instead`. */
export function refusedSecretFlag(name: string, instead: string): FlagSpec {
  return {
    name,
    kind: 'string',
    help: '',
    refused: `would put a secret on the command line, where every user can read it (ps); use ${instead}`,
  };
}

/** readSecretFile for a flag's file: an unreadable or empty file is a usage mistake of `command`. */
export function readSecretFlag(file: string, what: string, command: string, warn: Warn): string {
  try {
    return readSecretFile(file, what, warn);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new UsageError(err.message, command);
    throw err;
  }
}
