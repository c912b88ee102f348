export * from "./topics.ts";
export * from "./mqtt.ts";
export * from "./websocket.ts";
export * from "./flags.ts";
export * from "./rest.ts";
export * from "./bus.ts";
