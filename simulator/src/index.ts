export * from "./detector.ts";
export * from "./fleet.ts";
export * from "./signal.ts";
export * from "./random.ts";
