/**
 * `--output FILE` for the commands whose answer is a secret the API shows only once (an access
 * point's token, a device's token or activation code): the secret goes into FILE, created 0600,
 * and neither the terminal nor --json sees it, so it stays out of scrollback, logs and CI output.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SystemError } from '../../errors.js';
import { writeSecretFile } from '../../util/secret-file.js';
import type { FlagSpec, ParsedArgs } from '../args.js';
import type { Result } from './command.js';

export const OUTPUT_FLAG: FlagSpec = {
  name: 'output',
  kind: 'string',
  value: 'FILE',
  help: 'write the secret to FILE (created 0600) instead of printing it',
};

export interface SecretAnswer<T> {
  /** Calls the API; the secret is issued (and an earlier one revoked) only then. */
  issue(): Promise<T>;
  /** The field of the answer that is the secret: what FILE gets. */
  secret: keyof T & string;
  /** Other fields that are secrets too (a code inside the join string written): kept out of --json. */
  alsoSecret?: (keyof T & string)[];
  /** The human output that shows the secret. */
  shown(out: T): string;
  /** The human output once the secret is in `file`. */
  written(out: T, file: string): string;
}

export async function secretResult<T extends object>(
  a: ParsedArgs,
  answer: SecretAnswer<T>,
): Promise<Result> {
  const output = a.string('output');
  if (output === undefined) {
    const out = await answer.issue();
    return { json: out, human: answer.shown(out) };
  }
  const file = resolve(output);
  // Checked before issuing: a secret issued and then not written would be lost, its predecessor revoked.
  await access(dirname(file), constants.W_OK).catch((cause: Error) => {
    throw new SystemError(`cannot write ${file}: ${cause.message}`, { cause });
  });
  const out = await answer.issue();
  try {
    await writeSecretFile(file, `${String(out[answer.secret])}\n`);
  } catch (cause) {
    throw new SystemError(`cannot write ${file}: ${(cause as Error).message}`, { cause });
  }
  const hidden = new Set<string>([answer.secret, ...(answer.alsoSecret ?? [])]);
  const rest = Object.fromEntries(Object.entries(out).filter(([key]) => !hidden.has(key)));
  return { json: { ...rest, file }, human: answer.written(out, file) };
}
