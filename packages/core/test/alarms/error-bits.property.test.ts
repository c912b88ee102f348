import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DEFAULT_ALARM_SETTINGS, emptyMemory, evaluateReading, type AlarmSettings, type DeviceAlarmMemory } from "../../src/alarms/index.ts";

// Issue 11: a fault never masks an alarm (GB 16808, EN 50271).
const CH4: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS, high1: 25, high2: 50, deadband: 2, rangeMax: 100 };
const O2: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS, high1: 23.5, low1: 19.5, deadband: 0.5, rangeMax: 25 };
const anyErr = fc.oneof(fc.integer({ min: 1, max: 0xffff }), fc.constantFrom(0x01, 0x02, 0x04, 0x08, 0x10, 0x12, 0x18, 0x20, 0x8000));
/** The documented bits that make a CH4 detector's value meaningless: sensor fault, and under range (it has no LOW limit). */
const invalidates = (err: number) => (err & 0x01) !== 0 || (err & 0x04) !== 0;

let n = 0;
const at = () => Date.UTC(2026, 0, 5) + n++ * 10_000;
const judge = (memory: DeviceAlarmMemory, settings: AlarmSettings, value: number, err: number) =>
  evaluateReading(memory, settings, { at: at(), value, v_raw: Math.random(), err, bat: 3.9, anomaly: false }, false).memory;

describe("error bits never hide a gas alarm", () => {
  it("a reading at level 2 raises the level-2 alarm unless a documented bit makes its value meaningless, and any err shows a fault", () => {
    fc.assert(
      fc.property(anyErr, fc.double({ min: 50.01, max: 99, noNaN: true }), (err, value) => {
        const memory = judge(emptyMemory(), CH4, value, err);
        if (!invalidates(err)) expect(memory.alarms.HIGH).toMatchObject({ level: 2, conditionActive: true });
        else expect(memory.alarms.HIGH).toBeUndefined();
        expect(memory.alarms.FAULT?.conditionActive || memory.alarms.LOW_BATTERY?.conditionActive).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("a fault never clears or downgrades an active gas alarm: a meaningless value changes nothing, a level-2 value keeps level 2", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyErr, fc.double({ min: 0, max: 120, noNaN: true })), { minLength: 1, maxLength: 30 }), (readings) => {
        let memory = judge(emptyMemory(), CH4, 60, 0);
        for (const [err, value] of readings) {
          const before = memory.alarms.HIGH;
          memory = judge(memory, CH4, value, err);
          const after = memory.alarms.HIGH;
          if (invalidates(err)) expect(after).toEqual(before);
          else if (value > 50) expect(after).toMatchObject({ level: 2, conditionActive: true });
          if (before) expect(after?.level ?? before.level).toBeGreaterThanOrEqual(before.level);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("under range on an oxygen detector is a LOW alarm at its highest level, never a silent fault", () => {
    fc.assert(
      fc.property(anyErr.filter((err) => (err & 0x05) === 0x04), (err) => {
        const memory = judge(emptyMemory(), O2, 0, err);
        expect(memory.alarms.LOW).toMatchObject({ level: 1, conditionActive: true });
        expect(memory.alarms.FAULT?.conditionActive).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("low battery from the detector's own bit raises LOW_BATTERY beside a normally judged value, and ends when the bit does", () => {
    let memory = judge(emptyMemory(), CH4, 60, 0x08);
    expect(memory.alarms.HIGH).toMatchObject({ level: 2 });
    expect(memory.alarms.LOW_BATTERY).toMatchObject({ conditionActive: true, reason: "err 0x0008: the detector reports low battery" });
    memory = evaluateReading(memory, CH4, { at: at(), value: 60, v_raw: 0.3, err: 0, anomaly: false }, false).memory;
    expect(memory.alarms.LOW_BATTERY?.conditionActive).toBe(false);
  });
});
