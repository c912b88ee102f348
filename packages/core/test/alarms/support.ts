import {
  DEFAULT_ALARM_SETTINGS,
  emptyMemory,
  evaluateReading,
  type AlarmEvent,
  type AlarmSettings,
  type DeviceAlarmMemory,
  type ReadingInput,
} from "../../src/alarms/index.ts";

/** Monday 5 January 2026, 08:00 UTC; readings every 10 s as the detectors report. */
export const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
export const STEP = 10_000;

/** An H2S-like detector: level 1 above 10, level 2 above 20, deadband 2. */
export const H2S_LIKE: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS, high1: 10, high2: 20, deadband: 2 };

export function settings(overrides: Partial<AlarmSettings> = {}): AlarmSettings {
  return { ...H2S_LIKE, ...overrides };
}

/** A clean reading: v_raw changes every sample so nothing looks stuck. */
export function reading(index: number, value: number, extra: Partial<ReadingInput> = {}): ReadingInput {
  return { at: T0 + index * STEP, value, v_raw: 1 + index / 1000, err: 0, anomaly: false, ...extra };
}

export interface Feed {
  memory: DeviceAlarmMemory;
  events: AlarmEvent[];
  /** The events of each sample, in order. */
  perSample: AlarmEvent[][];
}

/** Feeds values as consecutive readings starting at sample `from`. */
export function feed(
  alarmSettings: AlarmSettings,
  values: number[],
  options: { memory?: DeviceAlarmMemory; inhibited?: boolean; from?: number } = {},
): Feed {
  let memory = options.memory ?? emptyMemory();
  const perSample: AlarmEvent[][] = [];
  values.forEach((value, offset) => {
    const result = evaluateReading(memory, alarmSettings, reading((options.from ?? 0) + offset, value), options.inhibited ?? false);
    memory = result.memory;
    perSample.push(result.events);
  });
  return { memory, events: perSample.flat(), perSample };
}

/** "HIGH raised", "HIGH level_up", …: what an engineer reads in the event log. */
export function log(events: AlarmEvent[]): string[] {
  return events.map((event) => `${event.type} ${event.kind}`);
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
