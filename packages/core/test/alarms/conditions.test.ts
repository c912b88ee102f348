import { describe, expect, it } from "vitest";
import { DEFAULT_ALARM_SETTINGS, type AlarmSettings } from "../../src/alarms/index.ts";
import { feed, log, settings } from "./support.ts";

const CH4: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS, high1: 25, high2: 50, deadband: 2, rangeMax: 100 };

describe("over full scale", () => {
  it("raises FAULT and the gas alarm at level 2 at once, although the value alone would say level 2 anyway", () => {
    const { memory, events } = feed(CH4, [150]);
    expect(log(events)).toEqual(["FAULT raised", "HIGH raised"]);
    expect(memory.alarms.HIGH).toMatchObject({ level: 2, reason: "over-range: value 150 > range max 100" });
  });

  it("raises the gas alarm at its highest level even when the limits sit above the range (a misconfigured device)", () => {
    const { memory } = feed({ ...CH4, high1: 120, high2: 140 }, [110]);
    expect(memory.alarms.HIGH).toMatchObject({ level: 2, conditionActive: true });
    expect(memory.alarms.FAULT?.conditionActive).toBe(true);
  });

  it("raises oxygen's high alarm at level 1, its only level", () => {
    const { memory } = feed({ ...DEFAULT_ALARM_SETTINGS, high1: 23.5, low1: 19.5, rangeMax: 25 }, [26]);
    expect(memory.alarms.HIGH).toMatchObject({ level: 1 });
  });

  it("raises HIGH level 2 on a device with no limits at all: more gas than the sensor measures is never normal", () => {
    const { memory } = feed({ ...DEFAULT_ALARM_SETTINGS, rangeMax: 100, monitorOnly: "trial" }, [130]);
    expect(memory.alarms.HIGH).toMatchObject({ level: 2 });
  });

  it("ends like any gas alarm once the readings are back in range", () => {
    const { events } = feed(CH4, [150, 10]);
    expect(log(events)).toEqual(["FAULT raised", "HIGH raised", "FAULT condition_cleared", "HIGH condition_cleared"]);
  });
});

describe("monitor only", () => {
  it("shows a not-configured FAULT on every reading, and still judges the value (it is not a sensor fault)", () => {
    const { memory, events } = feed({ ...DEFAULT_ALARM_SETTINGS, monitorOnly: "commissioning", rangeMax: 100 }, [5, 5.5]);
    expect(log(events)).toEqual(["FAULT raised"]);
    expect(memory.alarms.FAULT).toMatchObject({ conditionActive: true, reason: "not configured: monitor only, no alarm limits (commissioning)" });
  });
});

describe("peaks", () => {
  it("keeps the worst value and when it was read, besides the value that raised the alarm", () => {
    const { memory } = feed(settings(), [12, 18, 15]);
    expect(memory.alarms.HIGH).toMatchObject({ value: 12, peak: 18, peakAt: memory.alarms.HIGH!.raisedAt + 10_000 });
    expect(memory.track.active.HIGH).toMatchObject({ value: 12, peak: 18, peakAt: memory.alarms.HIGH!.raisedAt + 10_000 });
  });
});
