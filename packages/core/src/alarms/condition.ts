import type { AlarmLevel } from "./types.ts";

/** What one sample says about a condition, after the delays: raise/keep it, end it, or leave it as it was. */
export type ConditionVerdict =
  | { kind: "active"; level: AlarmLevel; reason: string }
  | { kind: "inactive" }
  | { kind: "hold" };

export const HOLD: ConditionVerdict = { kind: "hold" };
export const INACTIVE: ConditionVerdict = { kind: "inactive" };

/** Consecutive samples beyond a limit (`on`) and back inside it past the deadband (`off`). */
export interface DelayCounters {
  on: number;
  off: number;
}

export const FRESH_COUNTERS: DelayCounters = Object.freeze({ on: 0, off: 0 });

/** A sample count from settings: a whole number ≥ 1 whatever the admin typed. */
export function sampleCount(setting: number): number {
  return Number.isFinite(setting) ? Math.max(1, Math.floor(setting)) : 1;
}

/** Six decimals, as calibrate stores values: 0.34 − 0.2 is 0.14, not 0.14000000000000001. */
export function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
