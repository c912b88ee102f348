export * from "./license-file.ts";
export * from "./check-answer.ts";
export * from "./guard-state.ts";
