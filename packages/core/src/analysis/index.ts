// The offline analysis of archive files: pure, no I/O and no Node built-ins, so the browser
// (a Web Worker) and the CLI share it. Import it as "@mcs/core/analysis".
export type { AlarmLevel, AlarmSettings, AlarmType } from "../alarms/types.ts";
export * from "./archive-format.ts";
export * from "./csv-records.ts";
export * from "./archive-parser.ts";
export * from "./manifest.ts";
export * from "./device-series.ts";
export * from "./downsample.ts";
export * from "./plant-time.ts";
export * from "./heat-map.ts";
export * from "./report-interval.ts";
export * from "./flat-lines.ts";
export * from "./zero-drift.ts";
export * from "./noise.ts";
export * from "./trend-slope.ts";
export * from "./error-counts.ts";
export * from "./sensor-health.ts";
export * from "./what-if.ts";
export * from "./setting-variants.ts";
export * from "./archive-analysis.ts";
