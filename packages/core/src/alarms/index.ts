export * from "./types.ts";
export * from "./alarm-state.ts";
export * from "./evaluator.ts";
export * from "./presets.ts";
export * from "./schedule.ts";
