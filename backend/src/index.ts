export { buildApp, type AppDeps } from "./app.ts";
export { ensureFirstAdmin, type FirstAdminOptions, type FirstAdminResult } from "./first-admin.ts";
