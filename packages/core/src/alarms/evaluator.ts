import { transition, type AlarmInput } from "./alarm-state.ts";
import { judgeBattery } from "./battery.ts";
import { FRESH_COUNTERS, type ConditionVerdict, type DelayCounters } from "./condition.ts";
import { extendRun, faultReasons, judgeFault, type StuckRun } from "./faults.ts";
import { judgeGasLimits } from "./gas-limits.ts";
import type { AlarmEvent, AlarmSettings, AlarmType, OpenAlarm } from "./types.ts";

export interface ReadingInput {
  at: number;
  value: number;
  v_raw: number;
  err: number;
  bat?: number | undefined;
  /** The value was > 50000, stored with the anomaly flag. */
  anomaly: boolean;
}

/** Everything the engine remembers about one device between readings; plain JSON. */
export interface DeviceAlarmMemory {
  /** Open alarms by type (restored from the store at start). */
  alarms: Partial<Record<AlarmType, OpenAlarm>>;
  high: DelayCounters;
  low: DelayCounters;
  /** Consecutive samples without any fault, for FAULT's off-delay. */
  faultCleanRun: number;
  stuck: StuckRun;
}

export interface Evaluation {
  memory: DeviceAlarmMemory;
  events: AlarmEvent[];
}

export function emptyMemory(): DeviceAlarmMemory {
  return memoryFromOpenAlarms([]);
}

/**
 * After a restart: the open alarms come back from the store and the counters start fresh, so
 * a restart neither forgets an alarm nor raises it twice. Should the store hold two open alarms
 * of one type, the later raised is kept.
 */
export function memoryFromOpenAlarms(alarms: OpenAlarm[]): DeviceAlarmMemory {
  const byType: Partial<Record<AlarmType, OpenAlarm>> = {};
  for (const alarm of alarms) {
    const kept = byType[alarm.type];
    if (kept === undefined || alarm.raisedAt >= kept.raisedAt) byType[alarm.type] = { ...alarm };
  }
  return { alarms: byType, high: { ...FRESH_COUNTERS }, low: { ...FRESH_COUNTERS }, faultCleanRun: 0, stuck: { vRaw: null, count: 0 } };
}

/**
 * One reading of one device. A faulty reading (err, anomaly, over-range, stuck) raises FAULT
 * and says nothing about gas: it neither raises nor clears HIGH/LOW, and their delay counters
 * skip it. While `inhibited` (maintenance, e.g. test gas) nothing is raised, escalated or brought
 * back, but conditions may end so their alarms can close; the counters keep running.
 */
export function evaluateReading(memory: DeviceAlarmMemory, settings: AlarmSettings, reading: ReadingInput, inhibited: boolean): Evaluation {
  const { at, value } = reading;
  const stuck = extendRun(memory.stuck, reading.v_raw);
  const reasons = faultReasons(settings, reading, stuck);
  const fault = judgeFault(settings, memory.faultCleanRun, conditionActive(memory, "FAULT"), reasons);

  let result: Evaluation = { memory: { ...memory, alarms: { ...memory.alarms }, stuck, faultCleanRun: fault.cleanRun }, events: [] };
  // FAULT first: it explains whatever else the reading did or did not do.
  result = apply(result, "FAULT", fault.verdict, false, inhibited, at, value);
  // Over range still means gas, more than the sensor can measure: it must raise the gas
  // alarm too (never hide an alarm behind a fault). Any other fault makes the value untrustworthy.
  if (reasons.every((reason) => reason.startsWith("over-range"))) {
    for (const [type, direction] of [["HIGH", "high"], ["LOW", "low"]] as const) {
      const judged = judgeGasLimits(type, settings, result.memory[direction], conditionActive(result.memory, type), value);
      result = { ...result, memory: { ...result.memory, [direction]: judged.counters } };
      result = apply(result, type, judged.verdict, settings.latching, inhibited, at, value);
    }
  }
  const battery = judgeBattery(settings.lowBatteryV, conditionActive(result.memory, "LOW_BATTERY"), reading.bat);
  return apply(result, "LOW_BATTERY", battery, false, inhibited, at, reading.bat ?? null);
}

/** OFFLINE (level 1, never latched) while the device is away; its condition ends when it is back. */
export function evaluatePresence(memory: DeviceAlarmMemory, online: boolean, at: number, reason: string): Evaluation {
  const verdict: ConditionVerdict = online ? { kind: "inactive" } : { kind: "active", level: 1, reason };
  return apply({ memory: { ...memory, alarms: { ...memory.alarms } }, events: [] }, "OFFLINE", verdict, false, false, at, null);
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

function conditionActive(memory: DeviceAlarmMemory, type: AlarmType): boolean {
  return memory.alarms[type]?.conditionActive ?? false;
}

/** Feeds a verdict to the alarm of `type`; the alarms are replaced, never edited. */
function apply(
  soFar: Evaluation,
  type: AlarmType,
  verdict: ConditionVerdict,
  latching: boolean,
  inhibited: boolean,
  at: number,
  value: number | null,
): Evaluation {
  if (verdict.kind === "hold") return soFar;
  const current = soFar.memory.alarms[type] ?? null;
  let input: AlarmInput;
  if (verdict.kind === "active") {
    let level = verdict.level;
    if (inhibited) {
      // Maintenance: no raise, no return, no level_up; an alarm already active only follows its peak.
      if (current === null || !current.conditionActive) return soFar;
      level = current.level;
    }
    input = { kind: "condition", active: true, type, level, at, value, reason: verdict.reason };
  } else {
    input = { kind: "condition", active: false, type, at, value };
  }
  const { alarm, events } = transition(current, input, latching);
  return { memory: { ...soFar.memory, alarms: withAlarm(soFar.memory.alarms, type, alarm) }, events: [...soFar.events, ...events] };
}

function withAlarm(alarms: Partial<Record<AlarmType, OpenAlarm>>, type: AlarmType, alarm: OpenAlarm | null): Partial<Record<AlarmType, OpenAlarm>> {
  const next = { ...alarms };
  if (alarm === null) delete next[type];
  else next[type] = alarm;
  return next;
}
