import { HOLD, INACTIVE, sampleCount, type ConditionVerdict } from "./condition.ts";
import type { AlarmSettings } from "./types.ts";

/** The current run of identical raw values: a flat line is a dead sensor, not clean air. */
export interface StuckRun {
  vRaw: number | null;
  count: number;
}

export interface FaultSample {
  value: number;
  v_raw: number;
  err: number;
  anomaly: boolean;
}

/** One reason a sample is a FAULT, and what it means for judging its gas value. */
export interface FaultReason {
  text: string;
  /** The value means nothing (a dead sensor, an impossible number): no gas judgment from it. */
  invalidatesValue: boolean;
  /** More gas than the sensor can measure: the gas alarm is raised at its highest level. */
  overRange: boolean;
}

const fault = (text: string, invalidatesValue: boolean, overRange = false): FaultReason => ({ text, invalidatesValue, overRange });

/** Why a sample cannot be trusted, in the order an engineer would look; empty when it can. */
export function faultReasons(settings: AlarmSettings, sample: FaultSample, run: StuckRun): FaultReason[] {
  const reasons: FaultReason[] = [];
  if (sample.err !== 0) reasons.push(fault(`err 0x${(sample.err >>> 0).toString(16).toUpperCase().padStart(4, "0")}`, true));
  if (!Number.isFinite(sample.value)) reasons.push(fault(`value ${sample.value} is not a finite number`, true));
  if (sample.anomaly) reasons.push(fault(`anomaly: value ${sample.value} > 50000`, true));
  if (settings.rangeMax !== null && sample.value > settings.rangeMax) {
    reasons.push(fault(`over-range: value ${sample.value} > range max ${settings.rangeMax}`, false, true));
  }
  if (settings.stuckSamples !== null && run.count >= Math.max(2, sampleCount(settings.stuckSamples))) {
    reasons.push(fault(`stuck at v_raw ${run.vRaw} for ${run.count} samples`, true));
  }
  // Not a sensor fault, but an unguarded detector must never look normal.
  if (settings.monitorOnly) reasons.push(fault(`not configured: monitor only, no alarm limits (${settings.monitorOnly})`, false));
  return reasons;
}

/** Exact equality: a live sensor's noise never repeats exactly for long (and NaN never makes a run). */
export function extendRun(run: StuckRun, vRaw: number, stuckSamples: number | null = null): StuckRun {
  if (run.vRaw === null || run.vRaw !== vRaw) return { vRaw, count: 1 };
  // Counting past the setting changes nothing but would keep two equal histories from looking equal.
  const cap = stuckSamples === null ? Number.MAX_SAFE_INTEGER : Math.max(2, sampleCount(stuckSamples));
  return { vRaw, count: Math.min(run.count + 1, cap) };
}

/** FAULT raises at once (controllers must signal a fault within 100 s) and ends after `offDelaySamples` clean samples. */
export function judgeFault(
  settings: AlarmSettings,
  cleanRun: number,
  conditionActive: boolean,
  reasons: readonly FaultReason[],
): { cleanRun: number; verdict: ConditionVerdict } {
  if (reasons.length > 0) return { cleanRun: 0, verdict: { kind: "active", level: 1, reason: reasons.map((reason) => reason.text).join("; ") } };
  const next = Math.min(cleanRun + 1, sampleCount(settings.offDelaySamples));
  return { cleanRun: next, verdict: conditionActive && next >= sampleCount(settings.offDelaySamples) ? INACTIVE : HOLD };
}
