export type AlarmType = "HIGH" | "LOW" | "FAULT" | "OFFLINE" | "LOW_BATTERY";
export type AlarmLevel = 1 | 2;
/** `closed` is the end; an open alarm is one of the other three. */
export type AlarmState = "unacked" | "acked" | "cleared_unacked" | "closed";

/** Per-device alarm settings (the admin edits them; presets fill them). null = that check is off. */
export interface AlarmSettings {
  /** HIGH level 1 when value > high1. */
  high1: number | null;
  /** HIGH level 2 when value > high2 (high2 > high1). */
  high2: number | null;
  /** LOW level 1 when value < low1 (e.g. O2 deficiency 19.5 %VOL). */
  low1: number | null;
  /** LOW level 2 when value < low2 (low2 < low1). */
  low2: number | null;
  /** ≥ 0, in the device's unit: a HIGH clears only when value ≤ limit − deadband; a LOW when value ≥ limit + deadband. */
  deadband: number;
  /** ≥ 1: consecutive samples beyond a limit before it raises; level 2 never waits more than 1 sample. */
  onDelaySamples: number;
  /** ≥ 1: consecutive samples back inside (beyond the deadband) before the condition is gone. */
  offDelaySamples: number;
  /** A latched alarm stays active (unacked/acked) after its condition is gone, until acknowledged. */
  latching: boolean;
  /** LOW_BATTERY when bat (volts) < this. */
  lowBatteryV: number | null;
  /** FAULT "stuck" when v_raw is exactly equal this many samples in a row (≥ 2). */
  stuckSamples: number | null;
  /** FAULT "over-range" when value > rangeMax; the gas alarm is then raised at its highest level too. */
  rangeMax: number | null;
  /**
   * Monitor only: the engineer chose, with this reason, to give the device no alarm limits.
   * Every reading then carries a "not configured" FAULT, so the device is never shown as normal.
   */
  monitorOnly?: string | null | undefined;
}

export const DEFAULT_ALARM_SETTINGS: AlarmSettings = Object.freeze({
  high1: null,
  high2: null,
  low1: null,
  low2: null,
  deadband: 0,
  onDelaySamples: 1,
  offDelaySamples: 1,
  latching: false,
  lowBatteryV: 3.5,
  stuckSamples: null,
  rangeMax: null,
  monitorOnly: null,
});

/** The alarm types a reading can raise (OFFLINE comes from presence, not from a reading). */
export type ReadingAlarmType = "HIGH" | "LOW" | "FAULT" | "LOW_BATTERY";
export const READING_ALARM_TYPES: readonly ReadingAlarmType[] = Object.freeze(["FAULT", "HIGH", "LOW", "LOW_BATTERY"]);

/** One open (not closed) alarm of a device, as stored. */
export interface OpenAlarm {
  /** null until the store gave it an id (a just-raised alarm). */
  id: number | null;
  type: AlarmType;
  /** The highest level reached while open. */
  level: AlarmLevel;
  state: "unacked" | "acked" | "cleared_unacked";
  /** Is the condition still present (a latched or acked alarm may outlive it). */
  conditionActive: boolean;
  /** ms */
  raisedAt: number;
  /** Value at raise. */
  value: number | null;
  /** Worst value while open: max for HIGH and FAULT, min for LOW and LOW_BATTERY. */
  peak: number | null;
  /** ms: when the peak was read (the raise when no value came later). */
  peakAt: number;
  /** Raised from readings that arrived out of time order (a backlog after live data, a resend): it happened in the past. */
  late?: boolean | undefined;
  /** Human reason in English, e.g. "value 45.2 > level 2 limit 34", "err 0x0004". */
  reason: string;
}

/** An alarm as it was when it closed. */
export type ClosedAlarm = Omit<OpenAlarm, "state"> & { state: "closed" };

/**
 * `late_episode`, `revised` and `withdrawn` are what late readings changed in an alarm's past:
 * an episode found only in them, an episode whose start, end, level or peak they moved, and
 * an episode they showed did not happen as judged live (the alarm itself stays).
 */
export type AlarmEventKind =
  | "raised"
  | "level_up"
  | "condition_cleared"
  | "condition_returned"
  | "acked"
  | "closed"
  | "late_episode"
  | "revised"
  | "withdrawn";

export interface AlarmEvent {
  kind: AlarmEventKind;
  type: AlarmType;
  level: AlarmLevel;
  /** ms */
  at: number;
  value: number | null;
  /** The alarm after the event (state "closed" for kind "closed"). */
  alarm: OpenAlarm | ClosedAlarm;
  /** Free text: the reason, or who acknowledged and their comment. */
  note: string;
  /** Found by readings that arrived out of time order: it happened at `at`, in the past. */
  late?: boolean | undefined;
}
