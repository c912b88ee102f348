export * from "./app.ts";
export * from "./store.ts";
export * from "./check-status.ts";
export * from "./keys.ts";
export * from "./admin-token.ts";
export * from "./issue.ts";
export * from "./errors.ts";
