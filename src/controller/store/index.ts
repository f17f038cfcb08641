/** Controller storage: the ControllerStore contract, its SQLite and in-memory implementations. */
export * from './types.js';
export * from './errors.js';
export { SqliteStore, openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
export { MemoryStore, type MemoryStoreOptions } from './memory.js';
export { DEFAULT_AUDIT_RETENTION, DEFAULT_DB_MAX_BYTES, type AuditRetention } from './limits.js';
export {
  MIGRATIONS,
  migrate,
  currentSchemaVersion,
  latestSchemaVersion,
  type Migration,
} from './migrations.js';
export { ACCESS_POINT_TOKEN_PREFIX, API_KEY_PREFIX, DEVICE_TOKEN_PREFIX, hashToken } from './secrets.js';
export {
  ACTIVATION_CODE_LENGTH,
  ACTIVATION_ERROR_CODES,
  ACTIVATION_TTL_DEFAULT_MS,
  ACTIVATION_TTL_MAX_MS,
  ACTIVATION_TTL_MIN_MS,
  ActivationError,
  isActivationError,
  newActivationCode,
  normalizeActivationCode,
  type ActivationErrorCode,
} from './activation.js';
