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

/** Why a sample cannot be trusted, in the order an engineer would look; empty when it can. */
export function faultReasons(settings: AlarmSettings, sample: FaultSample, run: StuckRun): string[] {
  const reasons: string[] = [];
  if (sample.err !== 0) reasons.push(`err 0x${(sample.err >>> 0).toString(16).toUpperCase().padStart(4, "0")}`);
  if (!Number.isFinite(sample.value)) reasons.push(`value ${sample.value} is not a finite number`);
  if (sample.anomaly) reasons.push(`anomaly: value ${sample.value} > 50000`);
  if (settings.rangeMax !== null && sample.value > settings.rangeMax) {
    reasons.push(`over-range: value ${sample.value} > range max ${settings.rangeMax}`);
  }
  if (settings.stuckSamples !== null && run.count >= Math.max(2, sampleCount(settings.stuckSamples))) {
    reasons.push(`stuck at v_raw ${run.vRaw} for ${run.count} samples`);
  }
  return reasons;
}

/** Exact equality: a live sensor's noise never repeats exactly for long (and NaN never makes a run). */
export function extendRun(run: StuckRun, vRaw: number): StuckRun {
  return run.vRaw !== null && run.vRaw === vRaw ? { vRaw, count: run.count + 1 } : { vRaw, count: 1 };
}

/** FAULT raises at once (controllers must signal a fault within 100 s) and ends after `offDelaySamples` clean samples. */
export function judgeFault(
  settings: AlarmSettings,
  cleanRun: number,
  conditionActive: boolean,
  reasons: string[],
): { cleanRun: number; verdict: ConditionVerdict } {
  if (reasons.length > 0) return { cleanRun: 0, verdict: { kind: "active", level: 1, reason: reasons.join("; ") } };
  const next = cleanRun + 1;
  return { cleanRun: next, verdict: conditionActive && next >= sampleCount(settings.offDelaySamples) ? INACTIVE : HOLD };
}
