export { createApp, type App, type AppDeps } from './app.js';
export { loadConfig, type Config } from './config.js';
export { startServer, type RunningServer } from './main.js';
export { provision, ProvisionError } from './provision.js';
export { SqliteStore } from './store/sqlite/sqliteStore.js';
export type { Store } from './store/store.js';
export type { AppRouter } from './trpc/router.js';
