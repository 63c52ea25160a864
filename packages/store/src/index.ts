export { acquireDataDirLock, type DataDirLock, lockFileName } from "./data-dir-lock";
export { migrationsFolder, openStore, type StoreOptions } from "./open-store";
export * as schema from "./schema";
