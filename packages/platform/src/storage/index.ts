export * from "./object-store.ts";
export * from "./s3-object-store.ts";
export * from "./folder-object-store.ts";
