import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { acknowledge, evaluateReading, presetFor, reset, DEFAULT_ALARM_SETTINGS, type AlarmSettings } from "../../src/alarms/index.ts";
import { feed, log, reading, settings } from "./support.ts";

describe("HIGH gas alarms", () => {
  it("raises exactly one HIGH level 1 alarm for readings above high1, however long they last", () => {
    const { events, memory } = feed(settings(), [5, 12, 13, 14, 12, 11]);
    expect(log(events)).toEqual(["HIGH raised"]);
    expect(events[0]).toMatchObject({ level: 1, value: 12, note: "value 12 > level 1 limit 10" });
    expect(memory.alarms.HIGH).toMatchObject({ state: "unacked", conditionActive: true, level: 1, value: 12, peak: 14 });
  });

  it("needs the value strictly above the limit: exactly at it is no alarm", () => {
    expect(feed(settings(), [10, 10, 10]).events).toEqual([]);
  });

  it("with an on-delay of 3 samples, raises only on the third consecutive sample above the limit", () => {
    const delayed = settings({ onDelaySamples: 3 });
    expect(feed(delayed, [12, 12, 9, 12, 12, 9]).events).toEqual([]);
    const { perSample } = feed(delayed, [12, 12, 12]);
    expect(perSample.map(log)).toEqual([[], [], ["HIGH raised"]]);
  });

  it("raises level 2 at once even with an on-delay of 3 samples", () => {
    const { perSample } = feed(settings({ onDelaySamples: 3 }), [25]);
    expect(perSample[0]).toMatchObject([{ kind: "raised", level: 2, note: "value 25 > level 2 limit 20" }]);
  });

  it("turns level 1 into level 2 in the same alarm with a level_up, back to unacknowledged", () => {
    let { memory } = feed(settings(), [12]);
    memory = acknowledge(memory, "HIGH", 1, "li.wei", "").memory;
    expect(memory.alarms.HIGH?.state).toBe("acked");
    const up = feed(settings(), [15, 25, 30, 15], { memory, from: 1 });
    expect(log(up.events)).toEqual(["HIGH level_up"]);
    expect(up.memory.alarms.HIGH).toMatchObject({ level: 2, state: "unacked", value: 12, peak: 30, conditionActive: true });
  });

  it("goes cleared_unacked when the gas goes, then closes when acknowledged", () => {
    const cleared = feed(settings(), [12, 7]);
    expect(log(cleared.events)).toEqual(["HIGH raised", "HIGH condition_cleared"]);
    expect(cleared.memory.alarms.HIGH).toMatchObject({ state: "cleared_unacked", conditionActive: false });
    const answered = acknowledge(cleared.memory, "HIGH", 99, "li.wei", "checked the valve");
    expect(log(answered.events)).toEqual(["HIGH acked", "HIGH closed"]);
    expect(answered.memory.alarms.HIGH).toBeUndefined();
  });

  it("closes an acknowledged alarm when the gas goes", () => {
    const acked = acknowledge(feed(settings(), [12]).memory, "HIGH", 1, "li.wei", "");
    const { events, memory } = feed(settings(), [7], { memory: acked.memory, from: 2 });
    expect(log(events)).toEqual(["HIGH condition_cleared", "HIGH closed"]);
    expect(memory.alarms).toEqual({});
  });

  describe("deadband (hysteresis)", () => {
    it("keeps the condition while the value is between limit − deadband and the limit; clears at limit − deadband", () => {
      const { perSample, memory } = feed(settings(), [12, 9.5, 8.01, 11, 8]);
      expect(perSample.map(log)).toEqual([["HIGH raised"], [], [], [], ["HIGH condition_cleared"]]);
      expect(memory.alarms.HIGH?.state).toBe("cleared_unacked");
    });

    it("raises ONE alarm for any signal chattering around the limit inside the deadband", () => {
      // Every value in (limit − deadband, limit + 15]: the condition never ends, so it never re-raises.
      const chatter = fc.array(fc.double({ min: 8.000001, max: 25, noNaN: true }), { maxLength: 60 });
      fc.assert(
        fc.property(chatter, fc.integer({ min: 1, max: 3 }), (values, offDelaySamples) => {
          const { events } = feed(settings({ offDelaySamples }), [12, ...values]);
          expect(events.filter((event) => event.kind === "raised")).toHaveLength(1);
          expect(events.filter((event) => event.kind === "condition_cleared")).toHaveLength(0);
        }),
      );
    });

    it("clears a level-2-only check (high1 off) from high2 − deadband", () => {
      const { perSample } = feed(settings({ high1: null }), [15, 25, 19, 18.5, 18]);
      expect(perSample.map(log)).toEqual([[], ["HIGH raised"], [], [], ["HIGH condition_cleared"]]);
    });

    it("keeps a level 2 alarm active while the value falls back into the level 1 band", () => {
      const { events, memory } = feed(settings(), [25, 15, 11, 9]);
      expect(log(events)).toEqual(["HIGH raised"]);
      expect(memory.alarms.HIGH).toMatchObject({ level: 2, conditionActive: true, peak: 25 });
    });
  });

  it("with an off-delay of 3 samples, clears only after 3 consecutive samples back inside", () => {
    const { perSample } = feed(settings({ offDelaySamples: 3 }), [12, 5, 5, 9, 5, 5, 5]);
    expect(perSample.map(log)).toEqual([["HIGH raised"], [], [], [], [], [], ["HIGH condition_cleared"]]);
  });

  it("returns to the same alarm when the gas comes back before anyone answered", () => {
    const { events, memory } = feed(settings(), [12, 5, 12, 5, 12]);
    expect(log(events)).toEqual(["HIGH raised", "HIGH condition_cleared", "HIGH condition_returned", "HIGH condition_cleared", "HIGH condition_returned"]);
    expect(memory.alarms.HIGH).toMatchObject({ state: "unacked", raisedAt: reading(0, 0).at });
  });

  describe("latching", () => {
    const latched = settings({ latching: true });

    it("keeps a latched alarm active after the gas is gone, until it is acknowledged", () => {
      const { events, memory } = feed(latched, [25, 3, 3, 3]);
      expect(log(events)).toEqual(["HIGH raised", "HIGH condition_cleared"]);
      expect(memory.alarms.HIGH).toMatchObject({ state: "unacked", conditionActive: false, level: 2 });
      expect(log(acknowledge(memory, "HIGH", 5, "li.wei", "").events)).toEqual(["HIGH acked", "HIGH closed"]);
    });

    it("lets an engineer reset a latched alarm whose gas is gone, but not one whose gas is present", () => {
      const present = feed(latched, [25]).memory;
      expect(reset(present, "HIGH", 5, "engineer", "")).toEqual({ memory: present, events: [] });
      const goneNow = feed(latched, [25, 3]).memory;
      const done = reset(goneNow, "HIGH", 5, "engineer", "test gas");
      expect(done.events).toMatchObject([{ kind: "closed", note: "reset by engineer: test gas" }]);
      expect(done.memory.alarms.HIGH).toBeUndefined();
    });
  });

  it("ends the condition when the admin switches both limits off, so the alarm can be closed", () => {
    const { memory } = feed(settings(), [12]);
    const off = evaluateReading(memory, { ...settings(), high1: null, high2: null }, reading(1, 12), false);
    expect(log(off.events)).toEqual(["HIGH condition_cleared"]);
  });
});

describe("LOW gas alarms (oxygen deficiency)", () => {
  const o2Preset = presetFor("O2");
  if (o2Preset === undefined) throw new Error("no O2 preset");
  const o2: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS, ...o2Preset };

  it("is quiet in clean air at 20.9 %VOL", () => {
    expect(feed(o2, [20.9, 20.8, 21.0]).events).toEqual([]);
  });

  it("raises LOW below 19.5 %VOL, holds inside the 0.5 deadband, and clears at 20.0", () => {
    const { perSample } = feed(o2, [20.9, 19.4, 18.1, 19.8, 19.99, 20.0]);
    expect(perSample.map(log)).toEqual([[], ["LOW raised"], [], [], [], ["LOW condition_cleared"]]);
    expect(perSample[1]?.[0]).toMatchObject({ level: 1, note: "value 19.4 < level 1 limit 19.5" });
    expect(perSample[5]?.[0]?.alarm).toMatchObject({ peak: 18.1, value: 19.4 });
  });

  it("raises HIGH for oxygen enrichment above 23.5 %VOL, and has no level 2", () => {
    const { events } = feed(o2, [24, 24.9]);
    expect(events).toMatchObject([{ type: "HIGH", kind: "raised", level: 1 }]);
  });

  it("raises LOW level 2 at once below low2, and goes up a level from level 1", () => {
    const lows = settings({ high1: null, high2: null, low1: 19.5, low2: 18, deadband: 0.5, onDelaySamples: 3 });
    expect(feed(lows, [17.5]).events).toMatchObject([{ type: "LOW", kind: "raised", level: 2 }]);
    const { events } = feed(lows, [19, 19, 19, 17.9]);
    expect(log(events)).toEqual(["LOW raised", "LOW level_up"]);
  });

  it("applies latching to LOW alarms too", () => {
    const { memory } = feed({ ...o2, latching: true }, [18, 20.9]);
    expect(memory.alarms.LOW).toMatchObject({ state: "unacked", conditionActive: false });
  });
});
