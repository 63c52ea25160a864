export { acquireDataDirLock, type DataDirLock, lockFileName } from "./data-dir-lock";
export { feedStoreOf } from "./feed-store-of";
export { migrationsFolder, openStore, type StoreOptions } from "./open-store";
export * as schema from "./schema";
