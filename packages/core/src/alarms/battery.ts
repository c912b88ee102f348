import { HOLD, INACTIVE, round6, type ConditionVerdict } from "./condition.ts";

/** A battery under load sags and recovers by tens of millivolts: this keeps it from chattering. */
export const LOW_BATTERY_HYSTERESIS_V = 0.05;

/**
 * LOW_BATTERY when bat < lowBatteryV, or when the detector itself says so (err bit 0x08);
 * gone once bat ≥ lowBatteryV + 0.05 V and the detector no longer says so. A reading without
 * bat changes nothing, unless it ends what only the detector's bit had raised
 * (`flaggedBefore`: the previous reading had the bit).
 */
export function judgeBattery(lowBatteryV: number | null, conditionActive: boolean, bat: number | undefined, flagged = false, flaggedBefore = false): ConditionVerdict {
  // The detector's own word counts even with the voltage check off (a mains-powered setting).
  if (flagged) return { kind: "active", level: 1, reason: "err 0x0008: the detector reports low battery" };
  // Check switched off: the condition ends so the alarm can close.
  if (lowBatteryV === null) return conditionActive ? INACTIVE : HOLD;
  if (bat === undefined || !Number.isFinite(bat)) return conditionActive && flaggedBefore ? INACTIVE : HOLD;
  if (bat < lowBatteryV) return { kind: "active", level: 1, reason: `battery ${bat} V < ${lowBatteryV} V` };
  if (conditionActive && bat >= round6(lowBatteryV + LOW_BATTERY_HYSTERESIS_V)) return INACTIVE;
  return HOLD;
}
