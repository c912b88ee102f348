import { transition, type AlarmInput } from "./alarm-state.ts";
import { freshTrack, stepConditions, type AppliedVerdict, type ConditionTrack, type Episode, type ReadingInput } from "./conditions.ts";
import type { ConditionVerdict } from "./condition.ts";
import { READING_ALARM_TYPES, type AlarmEvent, type AlarmSettings, type AlarmType, type OpenAlarm } from "./types.ts";

export type { ReadingInput } from "./conditions.ts";

/** Everything the engine remembers about one device between readings; plain JSON. */
export interface DeviceAlarmMemory {
  /** Open alarms by type (restored from the store at start). */
  alarms: Partial<Record<AlarmType, OpenAlarm>>;
  /** What the readings say, independent of what people answered. */
  track: ConditionTrack;
}

export interface Evaluation {
  memory: DeviceAlarmMemory;
  events: AlarmEvent[];
  /** Episodes the reading ended, each with the id of the alarm it belonged to (null: raised in this evaluation). */
  ended?: { episode: Episode; alarmId: number | null }[];
}

export function emptyMemory(): DeviceAlarmMemory {
  return memoryFromOpenAlarms([]);
}

/**
 * After a restart without a checkpoint: the open alarms come back from the store and the
 * counters start fresh, so a restart neither forgets an alarm nor raises it twice. Should the
 * store hold two open alarms of one type, the later raised is kept.
 */
export function memoryFromOpenAlarms(alarms: OpenAlarm[]): DeviceAlarmMemory {
  const byType: Partial<Record<AlarmType, OpenAlarm>> = {};
  for (const alarm of alarms) {
    const kept = byType[alarm.type];
    if (kept === undefined || alarm.raisedAt >= kept.raisedAt) byType[alarm.type] = { ...alarm, peakAt: alarm.peakAt ?? alarm.raisedAt };
  }
  const track = freshTrack();
  for (const type of READING_ALARM_TYPES) {
    const alarm = byType[type];
    if (alarm?.conditionActive) {
      track.active[type] = { level: alarm.level, since: alarm.raisedAt, sinceSeq: 0, value: alarm.value, peak: alarm.peak, peakAt: alarm.peakAt, reason: alarm.reason };
    }
  }
  return { alarms: byType, track };
}

/**
 * One reading of one device: its conditions (see `stepConditions`), then what they do to
 * the device's alarms. A faulty reading (err, anomaly, stuck) raises FAULT and says nothing
 * about gas: it neither raises nor clears HIGH/LOW. While `inhibited` (maintenance) nothing is
 * raised, escalated or brought back, but conditions may end so their alarms can close.
 */
export function evaluateReading(memory: DeviceAlarmMemory, settings: AlarmSettings, reading: ReadingInput, inhibited: boolean): Evaluation {
  const step = stepConditions(memory.track, settings, reading, inhibited);
  let alarms = memory.alarms;
  const events: AlarmEvent[] = [];
  const ended: { episode: Episode; alarmId: number | null }[] = [];
  for (const verdict of step.applied) {
    const before = alarms[verdict.type] ?? null;
    const episode = verdict.active ? undefined : step.ended.find((candidate) => candidate.type === verdict.type);
    if (episode) ended.push({ episode, alarmId: before?.id ?? null });
    const latching = verdict.type === "HIGH" || verdict.type === "LOW" ? settings.latching : false;
    const result = transition(before, inputOf(verdict, reading.at), latching);
    alarms = withAlarm(alarms, verdict.type, result.alarm);
    events.push(...result.events);
  }
  return { memory: { alarms, track: step.track }, events, ended };
}

/** OFFLINE (level 1, never latched) while the device is away; its condition ends when it is back. */
export function evaluatePresence(memory: DeviceAlarmMemory, online: boolean, at: number, reason: string): Evaluation {
  const verdict: ConditionVerdict = online ? { kind: "inactive" } : { kind: "active", level: 1, reason };
  const input: AlarmInput = verdict.kind === "active"
    ? { kind: "condition", active: true, type: "OFFLINE", level: 1, at, value: null, reason }
    : { kind: "condition", active: false, type: "OFFLINE", at, value: null };
  const { alarm, events } = transition(memory.alarms.OFFLINE ?? null, input, false);
  return { memory: { ...memory, alarms: withAlarm(memory.alarms, "OFFLINE", alarm) }, events };
}

/**
 * FAULT for a device whose messages are all refused (wrong schema after a firmware update,
 * say): it is unreadable, not silent. The condition is the track's, so the next reading that
 * can be judged ends it like any fault (after the off-delay's clean samples).
 */
export function evaluateRefusal(memory: DeviceAlarmMemory, at: number, reason: string): Evaluation {
  if (memory.track.active.FAULT) return { memory, events: [] };
  const track: ConditionTrack = {
    ...memory.track, faultCleanRun: 0,
    active: { ...memory.track.active, FAULT: { level: 1, since: at, sinceSeq: 0, value: null, peak: null, peakAt: at, reason } },
  };
  const { alarm, events } = transition(memory.alarms.FAULT ?? null, { kind: "condition", active: true, type: "FAULT", level: 1, at, value: null, reason }, false);
  return { memory: { track, alarms: withAlarm(memory.alarms, "FAULT", alarm) }, events };
}

export function acknowledge(memory: DeviceAlarmMemory, type: AlarmType, at: number, by: string, comment: string): Evaluation {
  return answer(memory, type, { kind: "ack", at, by, comment });
}

/** Closes an alarm whose condition is gone; does nothing to one whose condition is present. */
export function reset(memory: DeviceAlarmMemory, type: AlarmType, at: number, by: string, comment: string): Evaluation {
  return answer(memory, type, { kind: "reset", at, by, comment });
}

function answer(memory: DeviceAlarmMemory, type: AlarmType, input: AlarmInput): Evaluation {
  const { alarm, events } = transition(memory.alarms[type] ?? null, input, false);
  return { memory: { ...memory, alarms: withAlarm(memory.alarms, type, alarm) }, events };
}

function inputOf(verdict: AppliedVerdict, at: number): AlarmInput {
  return verdict.active
    ? { kind: "condition", active: true, type: verdict.type, level: verdict.level, at, value: verdict.value, reason: verdict.reason }
    : { kind: "condition", active: false, type: verdict.type, at, value: verdict.value };
}

/** The alarms are replaced, never edited. */
export function withAlarm(alarms: Partial<Record<AlarmType, OpenAlarm>>, type: AlarmType, alarm: OpenAlarm | null): Partial<Record<AlarmType, OpenAlarm>> {
  const next = { ...alarms };
  if (alarm === null) delete next[type];
  else next[type] = alarm;
  return next;
}
