import { HOLD, INACTIVE, round6, type ConditionVerdict } from "./condition.ts";

/** A battery under load sags and recovers by tens of millivolts: this keeps it from chattering. */
export const LOW_BATTERY_HYSTERESIS_V = 0.05;

/** LOW_BATTERY when bat < lowBatteryV; gone once bat ≥ lowBatteryV + 0.05 V; a reading without bat changes nothing. */
export function judgeBattery(lowBatteryV: number | null, conditionActive: boolean, bat: number | undefined): ConditionVerdict {
  // Check switched off: the condition ends so the alarm can close.
  if (lowBatteryV === null) return conditionActive ? INACTIVE : HOLD;
  if (bat === undefined || !Number.isFinite(bat)) return HOLD;
  if (bat < lowBatteryV) return { kind: "active", level: 1, reason: `battery ${bat} V < ${lowBatteryV} V` };
  if (conditionActive && bat >= round6(lowBatteryV + LOW_BATTERY_HYSTERESIS_V)) return INACTIVE;
  return HOLD;
}
