import { acknowledge, emptyMemory, evaluateReading, type DeviceAlarmMemory, type ReadingInput } from "../alarms/evaluator.ts";
import { DEFAULT_ALARM_SETTINGS, type AlarmLevel, type AlarmSettings, type AlarmType } from "../alarms/types.ts";
import { FLAG_BITS, type ArchiveAlarm } from "./archive-format.ts";
import type { DeviceSeries } from "./device-series.ts";

/** An alarm the replay raised: from its raise to the reading its condition ended (null: still there at the end). */
export interface ReplayedAlarm {
  sn: string;
  type: AlarmType;
  /** The highest level reached. */
  level: AlarmLevel;
  raisedAt: number;
  clearedAt: number | null;
  peak: number | null;
  /** Why it was raised, in English (the engine's words). */
  reason: string;
}

export interface AlarmCount {
  type: AlarmType;
  level: AlarmLevel;
  count: number;
}

export interface WhatIfResult {
  alarms: ReplayedAlarm[];
  counts: AlarmCount[];
  total: number;
}

const REPLAY_ACTOR = "what-if";

/**
 * One device's archived readings through the product's own alarm engine with `settings`.
 * Nobody answers alarms in a replay, and an unanswered alarm would absorb every later
 * episode of its type (a returning condition re-opens the same alarm); so each alarm is
 * taken as answered the moment its condition is gone, and every episode counts once.
 */
export function replayDevice(series: DeviceSeries, settings: AlarmSettings): ReplayedAlarm[] {
  let memory: DeviceAlarmMemory = emptyMemory();
  const alarms: ReplayedAlarm[] = [];
  const open: Partial<Record<AlarmType, ReplayedAlarm>> = {};
  for (let i = 0; i < series.length; i++) {
    const evaluation = evaluateReading(memory, settings, readingAt(series, i), false);
    memory = evaluation.memory;
    for (const event of evaluation.events) {
      if (event.kind === "raised") {
        const alarm: ReplayedAlarm = { sn: series.sn, type: event.type, level: event.level, raisedAt: event.at, clearedAt: null, peak: event.value, reason: event.note };
        alarms.push(alarm);
        open[event.type] = alarm;
      } else if (event.kind === "level_up" && open[event.type]) {
        open[event.type]!.level = event.level;
      } else if (event.kind === "condition_cleared" && open[event.type]) {
        open[event.type]!.clearedAt = event.at;
      }
    }
    for (const [type, alarm] of Object.entries(memory.alarms)) {
      const replayed = open[type as AlarmType];
      if (replayed && alarm.peak !== null) replayed.peak = alarm.peak;
      if (alarm.conditionActive) continue;
      memory = acknowledge(memory, type as AlarmType, series.at[i]!, REPLAY_ACTOR, "").memory;
      delete open[type as AlarmType];
    }
  }
  return alarms;
}

/** Every device replayed with the settings `settingsOf` gives it (null: the product's defaults, no gas limits). */
export function replayArchive(series: readonly DeviceSeries[], settingsOf: (sn: string) => AlarmSettings | null): WhatIfResult {
  const alarms = series.flatMap((s) => replayDevice(s, settingsOf(s.sn) ?? DEFAULT_ALARM_SETTINGS));
  alarms.sort((a, b) => a.raisedAt - b.raisedAt || (a.sn < b.sn ? -1 : a.sn > b.sn ? 1 : 0));
  return { alarms, counts: countAlarms(alarms), total: alarms.length };
}

/** Alarms by type and level, in a fixed order (gas first, then faults). */
export function countAlarms(alarms: Iterable<{ type: AlarmType; level: AlarmLevel }>): AlarmCount[] {
  const counts = new Map<string, AlarmCount>();
  for (const alarm of alarms) {
    const key = `${alarm.type}:${alarm.level}`;
    const known = counts.get(key);
    if (known) known.count++;
    else counts.set(key, { type: alarm.type, level: alarm.level, count: 1 });
  }
  const order: AlarmType[] = ["HIGH", "LOW", "FAULT", "LOW_BATTERY", "OFFLINE"];
  return [...counts.values()].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type) || a.level - b.level);
}

export interface WhatIfComparisonRow {
  type: AlarmType;
  level: AlarmLevel;
  replayed: number;
  actual: number;
}

export interface WhatIfComparison {
  rows: WhatIfComparisonRow[];
  replayedTotal: number;
  /** Alarms really raised for the replayed devices; OFFLINE among them (a replay of readings cannot raise it). */
  actualTotal: number;
  /** Devices where the replay and reality differ, most different first. */
  devices: { sn: string; replayed: number; actual: number }[];
}

/** The replay beside the alarms really raised (the alarms file), for the same devices. */
export function compareWithActual(result: WhatIfResult, actual: readonly ArchiveAlarm[], devices: readonly string[]): WhatIfComparison {
  const wanted = new Set(devices);
  const real = actual.filter((alarm) => wanted.has(alarm.sn));
  const replayedCounts = result.counts;
  const actualCounts = countAlarms(real);
  const keys = new Map<string, WhatIfComparisonRow>();
  for (const { type, level, count } of replayedCounts) keys.set(`${type}:${level}`, { type, level, replayed: count, actual: 0 });
  for (const { type, level, count } of actualCounts) {
    const row = keys.get(`${type}:${level}`);
    if (row) row.actual = count;
    else keys.set(`${type}:${level}`, { type, level, replayed: 0, actual: count });
  }
  const perDevice = new Map<string, { sn: string; replayed: number; actual: number }>();
  const deviceRow = (sn: string) => perDevice.get(sn) ?? perDevice.set(sn, { sn, replayed: 0, actual: 0 }).get(sn)!;
  for (const alarm of result.alarms) deviceRow(alarm.sn).replayed++;
  for (const alarm of real) deviceRow(alarm.sn).actual++;
  const order = countAlarms([...keys.values()].map(({ type, level }) => ({ type, level })));
  return {
    rows: order.map(({ type, level }) => keys.get(`${type}:${level}`)!),
    replayedTotal: result.total,
    actualTotal: real.length,
    devices: [...perDevice.values()].filter((row) => row.replayed !== row.actual).sort((a, b) => Math.abs(b.replayed - b.actual) - Math.abs(a.replayed - a.actual) || (a.sn < b.sn ? -1 : 1)),
  };
}

/** Reading i of a series as the alarm engine takes it. */
export function readingAt(series: DeviceSeries, i: number): ReadingInput {
  const bat = series.bat[i]!;
  const flags = series.flags[i]!;
  return {
    at: series.at[i]!,
    seq: series.seq[i]!,
    value: series.value[i]!,
    v_raw: series.vRaw[i]!,
    err: series.err[i]!,
    bat: Number.isNaN(bat) ? undefined : bat,
    anomaly: (flags & FLAG_BITS.anomaly) !== 0,
    clock: (flags & FLAG_BITS.clock) !== 0,
  };
}
