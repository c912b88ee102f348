export * from "./archive-target.ts";
export * from "./gzip-lines.ts";
export * from "./telemetry-day.ts";
export * from "./records-day.ts";
export * from "./restore-day.ts";
