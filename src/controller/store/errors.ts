/**
 * Storage failures, one class per condition an operator fixes differently:
 * free disk space, fix permissions, restore a backup, upgrade sag. The original
 * driver error is kept in `cause`; the message says what to do.
 */
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { SagError } from '../../errors.js';

export const STORE_ERROR_CODES = [
  'ERR_STORE_READ_ONLY',
  'ERR_STORE_FULL',
  'ERR_STORE_CORRUPT',
  'ERR_STORE_BUSY',
  'ERR_STORE_IO',
  'ERR_STORE_SCHEMA_TOO_NEW',
  'ERR_STORE_CLOSED',
  'ERR_STORE_API_KEY_NOT_FOUND',
  'ERR_STORE_LAST_API_KEY',
  'ERR_STORE_INVALID',
] as const;

export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

export interface StoreErrorOptions {
  cause?: unknown;
  /** The database file: named in `message` (for the operator), never in `publicMessage`. */
  path?: string;
}

export class StoreError extends SagError {
  declare readonly code: StoreErrorCode;
  /** The message without any file path, for clients of the API: they have no business with the host's layout. */
  readonly publicMessage: string;
  constructor(code: StoreErrorCode, message: string, options: StoreErrorOptions = {}) {
    super(code, options.path === undefined ? message : `${message} (database ${options.path})`, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.publicMessage = message;
  }
}

/** The database file or its directory cannot be written (permissions, read-only mount). */
export class StoreReadOnlyError extends StoreError {
  constructor(message: string, options?: StoreErrorOptions) {
    super('ERR_STORE_READ_ONLY', message, options);
  }
}

/** The disk (or a configured size cap) is full; nothing was written. */
export class StoreFullError extends StoreError {
  constructor(message: string, options?: StoreErrorOptions) {
    super('ERR_STORE_FULL', message, options);
  }
}

/** The file is not a sag database, is damaged, or holds data the model rejects. */
export class StoreCorruptError extends StoreError {
  constructor(message: string, options?: StoreErrorOptions) {
    super('ERR_STORE_CORRUPT', message, options);
  }
}

/** Another process held the write lock for longer than the busy timeout. */
export class StoreBusyError extends StoreError {
  constructor(message: string, options?: StoreErrorOptions) {
    super('ERR_STORE_BUSY', message, options);
  }
}

/** Any other I/O failure from the operating system. */
export class StoreIoError extends StoreError {
  constructor(message: string, options?: StoreErrorOptions) {
    super('ERR_STORE_IO', message, options);
  }
}

/** The database was migrated by a newer sag; this one must not touch it. */
export class StoreSchemaTooNewError extends StoreError {
  constructor(message: string) {
    super('ERR_STORE_SCHEMA_TOO_NEW', message);
  }
}

export class StoreClosedError extends StoreError {
  constructor() {
    super('ERR_STORE_CLOSED', 'the controller store is closed');
  }
}

export class ApiKeyNotFoundError extends StoreError {
  constructor(id: string) {
    super('ERR_STORE_API_KEY_NOT_FOUND', `API key ${id} does not exist`);
  }
}

/** Revoking the last active key would leave nobody able to use the API. */
export class LastApiKeyError extends StoreError {
  constructor(id: string) {
    super(
      'ERR_STORE_LAST_API_KEY',
      `API key ${id} is the last active key; create another before revoking it`,
    );
  }
}

/** A store argument outside the model (an API key name or chosen token) is malformed. */
export class StoreInvalidError extends StoreError {
  constructor(message: string) {
    super('ERR_STORE_INVALID', message);
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}

/** True when the database's directory cannot be written because its filesystem is mounted read-only. */
function onReadOnlyFilesystem(path: string): boolean {
  try {
    accessSync(dirname(path), constants.W_OK);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/**
 * Maps a SQLite driver error to a StoreError. Extended result codes
 * ("SQLITE_IOERR_WRITE", "SQLITE_READONLY_DBMOVED") are matched by their primary
 * prefix. Anything that is not a SQLite error is returned unchanged.
 */
export function translateSqliteError(err: unknown, doing: string, path: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  const at = doing;
  const primary = code.replace(/^(SQLITE_[A-Z]+).*$/, '$1');
  switch (primary) {
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
      return new StoreReadOnlyError(
        `${at}: the database is read-only; check the file and directory permissions and the mount`,
        { cause: err, path },
      );
    case 'SQLITE_FULL':
      return new StoreFullError(`${at}: the disk is full; nothing was written, free some space and retry`, {
        cause: err,
        path,
      });
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
    case 'SQLITE_FORMAT':
      return new StoreCorruptError(
        `${at}: the database file is damaged or is not a sag database; restore it from a backup`,
        { cause: err, path },
      );
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new StoreBusyError(
        `${at}: another process holds the database lock; retry, or stop the other controller`,
        { cause: err, path },
      );
    case 'SQLITE_CANTOPEN':
      // SQLite says only "unable to open"; a read-only mount is the common cause worth naming
      // (root ignores permissions, so EROFS is what a read-only database looks like to it).
      if (onReadOnlyFilesystem(path)) {
        return new StoreReadOnlyError(
          `${at}: the database is on a read-only filesystem; remount it read-write or move the database`,
          { cause: err, path },
        );
      }
      return new StoreIoError(
        `${at}: cannot open the database; check that its directory exists and is writable`,
        { cause: err, path },
      );
    case 'SQLITE_IOERR':
      return new StoreIoError(`${at}: the operating system reported an I/O error (${code}); check the disk`, {
        cause: err,
        path,
      });
    default:
      return new StoreIoError(`${at}: ${code}: ${(err as Error).message}`, { cause: err, path });
  }
}
