export * from "./archive-keys.ts";
export * from "./archive-csv.ts";
export * from "./archive-manifest.ts";
