/** Controller storage: the ControllerStore contract, its SQLite and in-memory implementations. */
export * from './types.js';
export * from './errors.js';
export { SqliteStore, openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
export { MemoryStore, type MemoryStoreOptions } from './memory.js';
export { MIGRATIONS, migrate, currentSchemaVersion, latestSchemaVersion, type Migration } from './migrations.js';
export { API_KEY_PREFIX, DEVICE_TOKEN_PREFIX, hashToken } from './secrets.js';
