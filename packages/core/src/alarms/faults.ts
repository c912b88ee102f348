import { HOLD, INACTIVE, sampleCount, type ConditionVerdict } from "./condition.ts";
import { decodeErrorBits, hex } from "./error-bits.ts";
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
  /** The detector's own time was implausible: the reading is judged at its receive time. */
  clock?: boolean | undefined;
}

/** One reason a sample is a FAULT, and what it means for judging its gas value. */
export interface FaultReason {
  text: string;
  /** The value means nothing (a dead sensor, an impossible number): no gas judgment from it. */
  invalidatesValue: boolean;
  /** More gas than the sensor can measure: the HIGH alarm is raised at its highest level. */
  overRange: boolean;
  /** Less than the sensor can measure, on a device with LOW limits (O2): the LOW alarm at its highest level. */
  underRange?: boolean;
}

const fault = (text: string, invalidatesValue: boolean, overRange = false): FaultReason => ({ text, invalidatesValue, overRange });

/** Why a sample cannot be trusted, in the order an engineer would look; empty when it can. */
export function faultReasons(settings: AlarmSettings, sample: FaultSample, run: StuckRun): FaultReason[] {
  const reasons: FaultReason[] = [];
  const hasLow = settings.low1 !== null || settings.low2 !== null;
  for (const bit of decodeErrorBits(sample.err)) {
    const text = `err 0x${hex(bit.bit)}: ${bit.name}`;
    if (bit.effect === "invalidates") reasons.push(fault(text, true));
    else if (bit.effect === "over-range") reasons.push(fault(text, false, true));
    // Under range is over range for a LOW alarm (less oxygen than the sensor measures); without LOW limits the zero is gone and the value means nothing.
    else if (bit.effect === "under-range") reasons.push(hasLow ? { ...fault(text, false), underRange: true } : fault(`${text} (the zero is lost: the value cannot show a leak)`, true));
    else if (bit.effect === "fault") reasons.push(fault(text, false));
    // low-battery: the LOW_BATTERY alarm's business (judgeBattery).
  }
  if (sample.clock) reasons.push(fault("clock: the detector's own time is implausible (judged at its receive time)", false));
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

/** Whether a reading's value means nothing for gas by itself (the stuck run aside): then it neither raises nor clears a gas alarm, nor replaces the last trustworthy value shown. */
export function valueIsMeaningless(settings: AlarmSettings, sample: FaultSample): boolean {
  return faultReasons(settings, sample, { vRaw: null, count: 0 }).some((reason) => reason.invalidatesValue);
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
