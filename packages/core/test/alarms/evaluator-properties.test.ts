import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  acknowledge,
  emptyMemory,
  evaluatePresence,
  evaluateReading,
  memoryFromOpenAlarms,
  reset,
  type AlarmEvent,
  type AlarmSettings,
  type AlarmType,
  type DeviceAlarmMemory,
} from "../../src/alarms/index.ts";

const TYPES: AlarmType[] = ["HIGH", "LOW", "FAULT", "OFFLINE", "LOW_BATTERY"];
const limit = fc.option(fc.integer({ min: 0, max: 40 }), { nil: null });

const anySettings: fc.Arbitrary<AlarmSettings> = fc.record({
  high1: limit,
  high2: limit,
  low1: limit,
  low2: limit,
  deadband: fc.integer({ min: 0, max: 5 }),
  onDelaySamples: fc.integer({ min: 1, max: 4 }),
  offDelaySamples: fc.integer({ min: 1, max: 4 }),
  latching: fc.boolean(),
  lowBatteryV: fc.option(fc.constant(3.5), { nil: null }),
  stuckSamples: fc.option(fc.integer({ min: 2, max: 4 }), { nil: null }),
  rangeMax: fc.option(fc.constant(45), { nil: null }),
});

type Step =
  | { kind: "reading"; value: number; v_raw: number; err: number; bat: number | undefined; inhibited: boolean }
  | { kind: "presence"; online: boolean }
  | { kind: "ack" | "reset"; type: AlarmType }
  | { kind: "restart" };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("reading" as const),
      value: fc.oneof(fc.integer({ min: -5, max: 60 }), fc.constant(60_001)),
      v_raw: fc.integer({ min: 0, max: 2 }),
      err: fc.constantFrom(0, 0, 0, 1, 4),
      bat: fc.option(fc.constantFrom(3.3, 3.52, 3.6), { nil: undefined }),
      inhibited: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("presence" as const), online: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("ack" as const, "reset" as const), type: fc.constantFrom(...TYPES) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const) }) },
);

function apply(memory: DeviceAlarmMemory, alarmSettings: AlarmSettings, s: Step, at: number): { memory: DeviceAlarmMemory; events: AlarmEvent[] } {
  switch (s.kind) {
    case "reading":
      return evaluateReading(memory, alarmSettings, { at, value: s.value, v_raw: s.v_raw, err: s.err, bat: s.bat, anomaly: s.value > 50_000 }, s.inhibited);
    case "presence":
      return evaluatePresence(memory, s.online, at, s.online ? "online" : "offline (will)");
    case "ack":
      return acknowledge(memory, s.type, at, "operator", "");
    case "reset":
      return reset(memory, s.type, at, "engineer", "");
    case "restart":
      return { memory: memoryFromOpenAlarms(Object.values(memory.alarms)), events: [] };
  }
}

describe("the alarm engine over any history of any device", () => {
  it("keeps at most one open alarm per type: raises only when none is open, closes only what is open, and its memory agrees", () => {
    fc.assert(
      fc.property(anySettings, fc.array(step, { maxLength: 60 }), (alarmSettings, steps) => {
        let memory = emptyMemory();
        const open = new Set<AlarmType>();
        steps.forEach((s, index) => {
          const result = apply(memory, alarmSettings, s, index * 10_000);
          for (const event of result.events) {
            if (event.kind === "raised") {
              expect(open.has(event.type)).toBe(false);
              open.add(event.type);
            } else {
              expect(open.has(event.type)).toBe(true);
              if (event.kind === "closed") open.delete(event.type);
            }
            expect(event.at).toBe(index * 10_000);
          }
          if (s.kind === "reading" && s.inhibited) {
            expect(result.events.filter((event) => event.kind === "raised" || event.kind === "level_up" || event.kind === "condition_returned")).toEqual([]);
          }
          memory = result.memory;
          expect(new Set(Object.keys(memory.alarms))).toEqual(open);
          for (const [type, alarm] of Object.entries(memory.alarms)) expect(alarm.type).toBe(type);
        });
        expect(JSON.parse(JSON.stringify(memory))).toEqual(memory);
      }),
      { numRuns: 300 },
    );
  });

  it("raises no HIGH or LOW from a reading whose value the documented bits make meaningless", () => {
    fc.assert(
      fc.property(anySettings, fc.array(step, { maxLength: 40 }), (alarmSettings, steps) => {
        let memory = emptyMemory();
        steps.forEach((s, index) => {
          const result = apply(memory, alarmSettings, s, index);
          const noLow = alarmSettings.low1 === null && alarmSettings.low2 === null;
          if (s.kind === "reading" && ((s.err & 0x01) !== 0 || ((s.err & 0x04) !== 0 && noLow) || s.value > 50_000)) {
            expect(result.events.filter((event) => event.type === "HIGH" || event.type === "LOW")).toEqual([]);
          }
          memory = result.memory;
        });
      }),
      { numRuns: 200 },
    );
  });
});
