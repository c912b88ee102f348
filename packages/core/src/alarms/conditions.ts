import { worse } from "./alarm-state.ts";
import { judgeBattery } from "./battery.ts";
import { FRESH_COUNTERS, type ConditionVerdict, type DelayCounters } from "./condition.ts";
import { extendRun, faultReasons, judgeFault, type StuckRun } from "./faults.ts";
import { judgeGasLimits } from "./gas-limits.ts";
import type { AlarmLevel, AlarmSettings, ReadingAlarmType } from "./types.ts";

/** One reading as the alarm engine judges it. */
export interface ReadingInput {
  /** ms: the reading's own time. */
  at: number;
  /** The device's per-boot counter; with `at` it orders and identifies a reading. */
  seq?: number | undefined;
  value: number;
  v_raw: number;
  err: number;
  bat?: number | undefined;
  /** The value was > 50000, stored with the anomaly flag. */
  anomaly: boolean;
  /** The detector's own time was implausible: `at` is when the server received it. */
  clock?: boolean | undefined;
}

/** A condition that holds now: the start of an episode and what it reached so far. */
export interface ActiveCondition {
  level: AlarmLevel;
  /** ms and seq of the reading that started it. */
  since: number;
  sinceSeq: number;
  /** The value that started it (volts for LOW_BATTERY). */
  value: number | null;
  /** The worst value so far, and when. */
  peak: number | null;
  peakAt: number;
  reason: string;
}

/** One stretch of time a condition held: from the reading that started it to the one that ended it (null: it still holds). */
export interface Episode extends ActiveCondition {
  type: ReadingAlarmType;
  endAt: number | null;
  endSeq: number | null;
}

/**
 * What the readings of one device, in time order, say about its conditions: the delay
 * counters, the run of identical raw values, and the conditions that hold. Independent of
 * what people answered (acks never change a condition), so it can be replayed from any
 * checkpoint: that is how late readings are judged in their own time order. Plain JSON.
 */
export interface ConditionTrack {
  high: DelayCounters;
  low: DelayCounters;
  /** Consecutive samples without any fault, for FAULT's off-delay. */
  faultCleanRun: number;
  stuck: StuckRun;
  /** The previous reading carried the detector's low-battery bit (0x08). */
  batteryFlagged?: boolean;
  active: Partial<Record<ReadingAlarmType, ActiveCondition>>;
}

/** A verdict the alarms must hear: a condition present (with its level) or gone. */
export type AppliedVerdict =
  | { type: ReadingAlarmType; active: true; level: AlarmLevel; reason: string; value: number | null }
  | { type: ReadingAlarmType; active: false; value: number | null };

export interface ConditionStep {
  track: ConditionTrack;
  /** In the order the alarms apply them: FAULT first (it explains the rest), HIGH, LOW, LOW_BATTERY. */
  applied: AppliedVerdict[];
  /** Episodes this reading ended. */
  ended: Episode[];
}

export function freshTrack(): ConditionTrack {
  return { high: { ...FRESH_COUNTERS }, low: { ...FRESH_COUNTERS }, faultCleanRun: 0, stuck: { vRaw: null, count: 0 }, active: {} };
}

/**
 * One reading of one device against its settings at that time. Gas is judged unless a fault
 * makes the value meaningless; over range raises FAULT *and* the gas alarm at its highest
 * level (more gas than the sensor can measure is never less of an alarm). While `inhibited`
 * (maintenance, e.g. test gas) no condition starts or gets worse, but conditions may end so
 * their alarms can close; the counters keep running.
 */
export function stepConditions(track: ConditionTrack, settings: AlarmSettings, reading: ReadingInput, inhibited: boolean): ConditionStep {
  const { at, value } = reading;
  const seq = reading.seq ?? 0;
  const stuck = extendRun(track.stuck, reading.v_raw, settings.stuckSamples);
  const reasons = faultReasons(settings, reading, stuck);
  const fault = judgeFault(settings, track.faultCleanRun, track.active.FAULT !== undefined, reasons);
  const batteryFlagged = (reading.err & 0x08) !== 0;
  const next: ConditionTrack = { ...track, active: { ...track.active }, stuck, faultCleanRun: fault.cleanRun, batteryFlagged };
  const applied: AppliedVerdict[] = [];
  const ended: Episode[] = [];

  const feed = (type: ReadingAlarmType, verdict: ConditionVerdict, shown: number | null) => {
    if (verdict.kind === "hold") return;
    const current = next.active[type];
    if (verdict.kind === "inactive") {
      if (current) ended.push({ ...current, type, endAt: at, endSeq: seq });
      delete next.active[type];
      applied.push({ type, active: false, value: shown });
      return;
    }
    // Maintenance: nothing starts, nothing levels up; a condition already present only follows its peak.
    if (inhibited && !current) return;
    const level = inhibited && current ? current.level : verdict.level;
    if (!current) {
      next.active[type] = { level, since: at, sinceSeq: seq, value: shown, peak: shown, peakAt: at, reason: verdict.reason };
    } else {
      const peak = worse(type, current.peak, shown);
      next.active[type] = {
        ...current,
        level: level > current.level ? level : current.level,
        reason: level > current.level ? verdict.reason : current.reason,
        peak,
        peakAt: peak === current.peak ? current.peakAt : at,
      };
    }
    applied.push({ type, active: true, level, reason: verdict.reason, value: shown });
  };

  feed("FAULT", fault.verdict, value);
  if (!reasons.some((reason) => reason.invalidatesValue)) {
    const beyond = { HIGH: reasons.find((reason) => reason.overRange), LOW: reasons.find((reason) => reason.underRange) };
    for (const [type, direction] of [["HIGH", "high"], ["LOW", "low"]] as const) {
      const judged = judgeGasLimits(type, settings, next[direction], next.active[type] !== undefined, value);
      next[direction] = judged.counters;
      let verdict = judged.verdict;
      const outOfRange = beyond[type];
      if (outOfRange) {
        const top = type === "HIGH" ? highestHighLevel(settings) : highestLowLevel(settings);
        verdict = { kind: "active", level: verdict.kind === "active" && verdict.level > top ? verdict.level : top, reason: outOfRange.text };
      }
      feed(type, verdict, value);
    }
  }
  feed("LOW_BATTERY", judgeBattery(settings.lowBatteryV, next.active.LOW_BATTERY !== undefined, reading.bat, batteryFlagged, track.batteryFlagged ?? false), reading.bat ?? null);
  return { track: next, applied, ended };
}

/** The HIGH level an over-range reading raises: level 2 when the device has one (or no HIGH limits at all), else level 1 (O2). */
export function highestHighLevel(settings: AlarmSettings): AlarmLevel {
  if (settings.high2 !== null) return 2;
  return settings.high1 !== null ? 1 : 2;
}

/** The LOW level an under-range reading raises: level 2 when the device has one, else level 1. */
export function highestLowLevel(settings: AlarmSettings): AlarmLevel {
  return settings.low2 !== null ? 2 : 1;
}

/** Orders readings as they happened: by time, then by the device's counter. */
export function compareKeys(a: { at: number; seq: number }, b: { at: number; seq: number }): number {
  return a.at - b.at || a.seq - b.seq;
}
