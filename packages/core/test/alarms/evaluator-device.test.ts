import { describe, expect, it } from "vitest";
import {
  acknowledge,
  emptyMemory,
  evaluatePresence,
  evaluateReading,
  memoryFromOpenAlarms,
  type DeviceAlarmMemory,
  type OpenAlarm,
  type ReadingInput,
} from "../../src/alarms/index.ts";
import { deepFreeze, feed, log, reading, settings, T0 } from "./support.ts";

/** Feeds full readings (not just values) in order. */
function feedReadings(readings: ReadingInput[], alarmSettings = settings(), memory = emptyMemory(), inhibited = false) {
  const perSample = [];
  for (const input of readings) {
    const result = evaluateReading(memory, alarmSettings, input, inhibited);
    memory = result.memory;
    perSample.push(log(result.events));
  }
  return { memory, perSample, events: perSample.flat() };
}

describe("FAULT alarms", () => {
  it("raises FAULT for a bit that makes the value meaningless, naming the code in hex and its meaning, and no HIGH from that reading", () => {
    const { perSample, memory } = feedReadings([reading(0, 30, { err: 4 })]);
    expect(perSample).toEqual([["FAULT raised"]]);
    expect(memory.alarms.FAULT).toMatchObject({ level: 1, reason: "err 0x0004: under range (the zero is lost: the value cannot show a leak)", state: "unacked" });
    expect(memory.alarms.HIGH).toBeUndefined();
  });

  it("raises the HIGH from the next clean reading after a sensor fault, and clears the FAULT", () => {
    const { perSample } = feedReadings([reading(0, 30, { err: 0x01 }), reading(1, 30)]);
    expect(perSample).toEqual([["FAULT raised"], ["FAULT condition_cleared", "HIGH raised"]]);
  });

  it("judges the gas beside a bit that does not make the value meaningless: over range raises the HIGH at its highest level at once", () => {
    const { perSample, memory } = feedReadings([reading(0, 12, { err: 0x12 })]);
    expect(perSample).toEqual([["FAULT raised", "HIGH raised"]]);
    expect(memory.alarms.HIGH).toMatchObject({ level: 2, reason: "err 0x0002: over range" });
    expect(memory.alarms.FAULT?.reason).toBe("err 0x0002: over range; err 0x0010: temperature out of spec");
  });

  it("does not clear an existing HIGH from a faulted reading that says 0", () => {
    const { perSample, memory } = feedReadings([reading(0, 15), reading(1, 0, { err: 1 })]);
    expect(perSample).toEqual([["HIGH raised"], ["FAULT raised"]]);
    expect(memory.alarms.HIGH?.conditionActive).toBe(true);
  });

  it("leaves faulted readings out of the on-delay count rather than restarting it", () => {
    const alarmSettings = settings({ onDelaySamples: 3 });
    const { perSample } = feedReadings([reading(0, 12), reading(1, 12, { err: 1 }), reading(2, 12), reading(3, 12)], alarmSettings);
    expect(perSample).toEqual([[], ["FAULT raised"], ["FAULT condition_cleared"], ["HIGH raised"]]);
  });

  it("raises FAULT for a reading stored with the anomaly flag", () => {
    const { memory, events } = feedReadings([reading(0, 60_000, { anomaly: true })]);
    expect(events).toEqual(["FAULT raised"]);
    expect(memory.alarms.FAULT?.reason).toBe("anomaly: value 60000 > 50000");
  });

  it("raises FAULT for a value over the sensor's range, and the gas alarm too: over range is more gas, never less", () => {
    const { memory, events } = feedReadings([reading(0, 120)], settings({ rangeMax: 100, high1: 25, high2: 50 }));
    expect(events).toEqual(["FAULT raised", "HIGH raised"]);
    expect(memory.alarms.FAULT?.reason).toBe("over-range: value 120 > range max 100");
    expect(memory.alarms.HIGH?.level).toBe(2);
  });

  it("raises no HIGH from a reading the device marks faulty (err ≠ 0), even over range", () => {
    const { events } = feedReadings([reading(0, 120, { err: 4 })], settings({ rangeMax: 100, high1: 25, high2: 50 }));
    expect(events).toEqual(["FAULT raised"]);
  });

  it("raises FAULT when v_raw is exactly the same for stuckSamples samples, and clears when it moves", () => {
    const flat = Array.from({ length: 6 }, (_, i) => reading(i, 0, { v_raw: 1.234 }));
    const { perSample, memory } = feedReadings([...flat, reading(6, 0, { v_raw: 1.235 })], settings({ stuckSamples: 5 }));
    expect(perSample).toEqual([[], [], [], [], ["FAULT raised"], [], ["FAULT condition_cleared"]]);
    expect(memory.alarms.FAULT?.reason).toBe("stuck at v_raw 1.234 for 5 samples");
  });

  it("does not look for a flat line when stuckSamples is off", () => {
    const flat = Array.from({ length: 50 }, (_, i) => reading(i, 0, { v_raw: 1.234 }));
    expect(feedReadings(flat).events).toEqual([]);
  });

  it("lists every fault of a reading in its reason", () => {
    const { memory } = feedReadings([reading(0, 60_000, { err: 2, anomaly: true })], settings({ rangeMax: 100 }));
    expect(memory.alarms.FAULT?.reason).toBe("err 0x0002: over range; anomaly: value 60000 > 50000; over-range: value 60000 > range max 100");
  });

  it("clears after offDelaySamples clean readings", () => {
    const { perSample } = feedReadings([reading(0, 0, { err: 1 }), reading(1, 0), reading(2, 0, { err: 1 }), reading(3, 0), reading(4, 0)], settings({ offDelaySamples: 2 }));
    expect(perSample).toEqual([["FAULT raised"], [], [], [], ["FAULT condition_cleared"]]);
  });

  it("is never latched: latching is for gas alarms", () => {
    const { memory } = feedReadings([reading(0, 0, { err: 1 }), reading(1, 0)], settings({ latching: true }));
    expect(memory.alarms.FAULT).toMatchObject({ state: "cleared_unacked", conditionActive: false });
  });
});

describe("OFFLINE alarms", () => {
  it("raises OFFLINE level 1 once when the device goes away, and clears when it is back", () => {
    const away = evaluatePresence(emptyMemory(), false, T0, "offline (will)");
    expect(away.events).toMatchObject([{ type: "OFFLINE", kind: "raised", level: 1, value: null, note: "offline (will)" }]);
    expect(evaluatePresence(away.memory, false, T0 + 30_000, "offline (silent 30 s)").events).toEqual([]);
    const back = evaluatePresence(away.memory, true, T0 + 60_000, "online");
    expect(log(back.events)).toEqual(["OFFLINE condition_cleared"]);
    expect(back.memory.alarms.OFFLINE?.state).toBe("cleared_unacked");
    expect(log(acknowledge(back.memory, "OFFLINE", T0 + 70_000, "li.wei", "").events)).toEqual(["OFFLINE acked", "OFFLINE closed"]);
  });

  it("closes an acknowledged OFFLINE alarm when the device is back", () => {
    const away = evaluatePresence(emptyMemory(), false, T0, "offline (will)");
    const acked = acknowledge(away.memory, "OFFLINE", T0 + 1, "li.wei", "power cut in hall 3");
    expect(log(evaluatePresence(acked.memory, true, T0 + 2, "online").events)).toEqual(["OFFLINE condition_cleared", "OFFLINE closed"]);
  });

  it("does nothing for an online device without an OFFLINE alarm", () => {
    expect(evaluatePresence(emptyMemory(), true, T0, "online").events).toEqual([]);
  });
});

describe("LOW_BATTERY alarms", () => {
  it("raises below lowBatteryV and clears only at lowBatteryV + 0.05 V", () => {
    const bats = [3.6, 3.41, 3.5, 3.54, 3.55];
    const { perSample, memory } = feedReadings(bats.map((bat, i) => reading(i, 0, { bat })));
    expect(perSample).toEqual([[], ["LOW_BATTERY raised"], [], [], ["LOW_BATTERY condition_cleared"]]);
    expect(memory.alarms.LOW_BATTERY).toMatchObject({ reason: "battery 3.41 V < 3.5 V", value: 3.41, peak: 3.41 });
  });

  it("changes nothing for a reading without a battery voltage", () => {
    const low = feedReadings([reading(0, 0, { bat: 3.3 })]).memory;
    expect(feedReadings([reading(1, 0)], settings(), low).events).toEqual([]);
  });

  it("does not check the battery when lowBatteryV is off", () => {
    expect(feedReadings([reading(0, 0, { bat: 2.9 })], settings({ lowBatteryV: null })).events).toEqual([]);
  });
});

describe("inhibit (detector in maintenance)", () => {
  it("raises nothing: no gas, fault or battery alarm", () => {
    const inputs = [reading(0, 25), reading(1, 12, { err: 1 }), reading(2, 12, { bat: 3.0 }), reading(3, 30, { anomaly: true })];
    const { events, memory } = feedReadings(inputs, settings(), emptyMemory(), true);
    expect(events).toEqual([]);
    expect(memory.alarms).toEqual({});
  });

  it("does not go up a level or bring a cleared condition back", () => {
    const open = feed(settings(), [12]).memory;
    expect(feed(settings(), [25, 30], { memory: open, inhibited: true, from: 1 }).events).toEqual([]);
    const cleared = feed(settings(), [12, 5]).memory;
    expect(feed(settings(), [15, 25], { memory: cleared, inhibited: true, from: 2 }).events).toEqual([]);
  });

  it("still lets existing conditions clear, so their alarms can close", () => {
    const open = acknowledge(feed(settings(), [12]).memory, "HIGH", T0, "li.wei", "").memory;
    expect(log(feed(settings(), [3], { memory: open, inhibited: true, from: 1 }).events)).toEqual(["HIGH condition_cleared", "HIGH closed"]);
  });

  it("keeps the delay counters running: gas that stayed through maintenance raises as soon as it ends", () => {
    const during = feed(settings({ onDelaySamples: 3 }), [12, 12, 12], { inhibited: true });
    expect(during.events).toEqual([]);
    expect(feed(settings({ onDelaySamples: 3 }), [12], { memory: during.memory, from: 3 }).events).toMatchObject([{ kind: "raised" }]);
  });
});

describe("restart", () => {
  const stored: OpenAlarm = {
    id: 41,
    type: "HIGH",
    level: 1,
    state: "acked",
    conditionActive: true,
    raisedAt: T0 - 3_600_000,
    value: 12,
    peak: 14,
    peakAt: T0 - 3_500_000,
    reason: "value 12 > level 1 limit 10",
  };

  it("neither forgets nor re-raises an open alarm", () => {
    const memory = memoryFromOpenAlarms([stored]);
    const { events, memory: after } = feed(settings(), [13, 15]);
    expect(log(events)).toEqual(["HIGH raised"]); // what a forgetful engine would do
    const restarted = feed(settings(), [13, 15], { memory });
    expect(restarted.events).toEqual([]);
    expect(restarted.memory.alarms.HIGH).toMatchObject({ id: 41, state: "acked", raisedAt: stored.raisedAt, peak: 15 });
    expect(after.alarms.HIGH?.id).toBeNull();
  });

  it("starts the counters fresh and closes the restored alarm through its normal life", () => {
    const memory = memoryFromOpenAlarms([stored]);
    // Fresh counters; the condition the stored alarm says holds goes on holding.
    expect(memory).toEqual({
      alarms: { HIGH: stored },
      track: { ...emptyMemory().track, active: { HIGH: { level: 1, since: stored.raisedAt, sinceSeq: 0, value: 12, peak: 14, peakAt: stored.peakAt, reason: stored.reason } } },
    });
    const { events } = feed(settings(), [3], { memory });
    expect(events).toMatchObject([{ kind: "condition_cleared" }, { kind: "closed", alarm: { id: 41, state: "closed" } }]);
  });

  it("keeps the later raised one should the store hold two open alarms of one type", () => {
    const older = { ...stored, id: 1, raisedAt: 1 };
    const newer = { ...stored, id: 2, raisedAt: 2 };
    expect(memoryFromOpenAlarms([newer, older]).alarms.HIGH?.id).toBe(2);
    expect(memoryFromOpenAlarms([older, newer]).alarms.HIGH?.id).toBe(2);
  });
});

describe("the evaluator's contract", () => {
  it("never changes its inputs", () => {
    const memory: DeviceAlarmMemory = deepFreeze(feed(settings({ stuckSamples: 3 }), [12, 5]).memory);
    const before = structuredClone(memory);
    const alarmSettings = deepFreeze(settings({ stuckSamples: 3 }));
    const input = deepFreeze(reading(2, 25, { bat: 3.0, err: 1 }));
    evaluateReading(memory, alarmSettings, input, false);
    evaluateReading(memory, alarmSettings, reading(3, 25), false);
    evaluatePresence(memory, false, T0, "offline");
    acknowledge(memory, "HIGH", T0, "li.wei", "");
    expect(memory).toEqual(before);
  });

  it("remembers in plain JSON", () => {
    const { memory } = feedReadings([reading(0, 25, { bat: 3 }), reading(1, 5, { err: 3, v_raw: 2 }), reading(2, 5, { v_raw: 2 })]);
    expect(JSON.parse(JSON.stringify(memory))).toEqual(memory);
  });
});
