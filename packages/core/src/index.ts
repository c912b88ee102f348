export * from "./calibrate.ts";
export * from "./reading-time.ts";
export * from "./password.ts";
export * from "./alarms/index.ts";
export * from "./license/index.ts";
export * from "./archive/index.ts";
export * from "./plant-zone.ts";
export * from "./device-state.ts";
