export * from "./worker.ts";
export * from "./calibration-cache.ts";
export * from "./processor/processor.ts";
export * from "./processor/parse-message.ts";
export type * from "./ingest/message-source.ts";
export * from "./ingest/aedes-source.ts";
export * from "./ingest/mqtt-ingest.ts";
