/**
 * Secrets on disk (keys, tokens, activation codes, a wg-quick file's PrivateKey): read with a
 * warning when others could read them too, as wg-quick warns, and written so no one else ever
 * can: files created 0600 by open(2) itself (never chmod after, which leaves a window) and
 * replaced atomically, their directories 0700.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

export type Warn = (message: string) => void;

/** Why a file or directory with `mode` is exposed ("world accessible"), or undefined when it is not. */
export function exposure(path: string, mode: number): string | undefined {
  const who = mode & 0o007 ? 'world' : mode & 0o070 ? 'group' : undefined;
  if (!who) return undefined;
  const octal = (mode & 0o7777).toString(8).padStart(4, '0');
  return `'${path}' is ${who} accessible (mode ${octal}); chmod go= it`;
}

/**
 * The trimmed contents of a secret file; `warn` hears if group or others may read it. Throws
 * InvalidArgumentError (naming `what`, e.g. "token file") when it cannot be read or is empty.
 */
export function readSecretFile(path: string, what: string, warn: Warn): string {
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    // The mode of what is read, not of whatever the name points at a moment later.
    const exposed = exposure(path, fstatSync(fd).mode);
    if (exposed) warn(exposed);
    text = readFileSync(fd, 'utf8').trim();
  } catch (cause) {
    const why = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new InvalidArgumentError(`cannot read ${what} ${path}: ${why}`, { cause });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (text === '') throw new InvalidArgumentError(`${what} ${path} is empty`);
  return text;
}

/** Warns (as wg-quick does) when group or others may access `path`; silent if it cannot be stat'ed. */
export async function warnIfExposed(path: string, warn: Warn): Promise<void> {
  const mode = await stat(path).then(
    (s) => s.mode,
    () => 0,
  );
  const exposed = exposure(path, mode);
  if (exposed) warn(exposed);
}

/**
 * Creates `dir` (and missing parents) 0700; an existing one that group or others may enter is
 * tightened to 0700 (`warn` hears of it): it holds only secrets, and a warning alone would leave
 * them readable.
 */
export async function ensurePrivateDir(dir: string, warn: Warn): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { mode } = await stat(dir);
  const exposed = exposure(dir, mode);
  if (!exposed) return;
  await chmod(dir, mode & 0o700);
  warn(`${exposed.replace(/; chmod go= it$/, '')}: tightened to 0${(mode & 0o700).toString(8)}`);
}

/**
 * Writes `data` to `path` with mode 0600 atomically: to a temporary name created 0600 (O_EXCL,
 * so a leftover with another mode is never reused), fsynced, renamed over `path`, and the
 * directory fsynced, so a crash leaves the old file or the new one, never half a file.
 */
export async function writeSecretFile(path: string, data: string): Promise<void> {
  const temp = `${path}.tmp`;
  try {
    await rm(temp, { force: true });
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDir(dirname(path));
  } catch (err) {
    await rm(temp, { force: true }).catch(() => {});
    throw err;
  }
}

/** A rename is durable only once the directory entry is on disk. Best effort: not every file system allows it. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // e.g. EINVAL on some file systems; the rename itself has happened.
  }
}
