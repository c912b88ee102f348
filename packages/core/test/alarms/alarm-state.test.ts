import { describe, expect, expectTypeOf, it } from "vitest";
import fc from "fast-check";
import type { AlarmType as WireAlarmType } from "@mcs/protocol";
import { transition, type AlarmInput, type AlarmLevel, type AlarmType, type OpenAlarm } from "../../src/alarms/index.ts";
import { log } from "./support.ts";

const at = 1_000_000;
const high = (level: AlarmLevel, value: number, when = at): AlarmInput => ({
  kind: "condition",
  active: true,
  type: "HIGH",
  level,
  at: when,
  value,
  reason: `value ${value} > level ${level} limit`,
});
const gone = (value: number | null = 1, when = at + 1): AlarmInput => ({ kind: "condition", active: false, type: "HIGH", at: when, value });
const ack = (comment = "", when = at + 2): AlarmInput => ({ kind: "ack", at: when, by: "li.wei", comment });
const reset = (when = at + 3): AlarmInput => ({ kind: "reset", at: when, by: "engineer", comment: "sensor replaced" });

/** Runs inputs from no alarm, collecting the event log. */
function run(inputs: AlarmInput[], latching = false): { alarm: OpenAlarm | null; log: string[] } {
  let alarm: OpenAlarm | null = null;
  const events: string[] = [];
  for (const input of inputs) {
    const next = transition(alarm, input, latching);
    alarm = next.alarm;
    events.push(...next.events.map((event) => event.kind));
  }
  return { alarm, log: events };
}

describe("one alarm's life (ISA-18.2 / GB 16808)", () => {
  it("uses the alarm types of the wire protocol", () => {
    expectTypeOf<AlarmType>().toEqualTypeOf<WireAlarmType>();
  });

  it("raises a new unacknowledged alarm when a condition appears", () => {
    const { alarm, events } = transition(null, high(1, 12), false);
    expect(alarm).toEqual({
      id: null,
      type: "HIGH",
      level: 1,
      state: "unacked",
      conditionActive: true,
      raisedAt: at,
      value: 12,
      peak: 12,
      peakAt: at,
      reason: "value 12 > level 1 limit",
    });
    expect(events).toEqual([{ kind: "raised", type: "HIGH", level: 1, at, value: 12, alarm, note: "value 12 > level 1 limit" }]);
  });

  it("does nothing without an alarm for a gone condition, an ack or a reset", () => {
    for (const input of [gone(), ack(), reset()]) expect(transition(null, input, false)).toEqual({ alarm: null, events: [] });
  });

  it("keeps an unanswered alarm as cleared_unacked when its condition goes", () => {
    const { alarm, events } = transition(run([high(1, 12)]).alarm, gone(8), false);
    expect(alarm).toMatchObject({ state: "cleared_unacked", conditionActive: false, value: 12, peak: 12 });
    expect(log(events)).toEqual(["HIGH condition_cleared"]);
    expect(events[0]?.note).toBe("condition gone at value 8");
  });

  it("closes a cleared_unacked alarm when it is acknowledged", () => {
    expect(run([high(1, 12), gone(), ack()])).toEqual({ alarm: null, log: ["raised", "condition_cleared", "acked", "closed"] });
  });

  it("closes an acknowledged alarm when its condition goes", () => {
    const acked = run([high(1, 12), ack()]).alarm;
    expect(acked).toMatchObject({ state: "acked", conditionActive: true });
    const { alarm, events } = transition(acked, gone(), false);
    expect(alarm).toBeNull();
    expect(log(events)).toEqual(["HIGH condition_cleared", "HIGH closed"]);
    expect(events[1]?.alarm).toMatchObject({ state: "closed", conditionActive: false, type: "HIGH", raisedAt: at });
  });

  it("records who acknowledged and their comment", () => {
    const { events } = transition(run([high(1, 12)]).alarm, ack("fan started"), false);
    expect(events[0]).toMatchObject({ kind: "acked", at: at + 2, value: null, note: "acknowledged by li.wei: fan started" });
    expect(transition(run([high(1, 12)]).alarm, ack(""), false).events[0]?.note).toBe("acknowledged by li.wei");
  });

  describe("latching", () => {
    it("keeps a latched alarm unacknowledged after its condition goes, until someone acknowledges it", () => {
      const latched = run([high(2, 25), gone()], true);
      expect(latched.alarm).toMatchObject({ state: "unacked", conditionActive: false, level: 2 });
      expect(latched.log).toEqual(["raised", "condition_cleared"]);
      expect(run([high(2, 25), gone(), ack()], true)).toEqual({ alarm: null, log: ["raised", "condition_cleared", "acked", "closed"] });
    });

    it("closes a latched, acknowledged alarm when its condition goes: acknowledged and gone is done", () => {
      expect(run([high(2, 25), ack(), gone()], true)).toEqual({ alarm: null, log: ["raised", "acked", "condition_cleared", "closed"] });
    });

    it("lets a latched alarm whose condition returns stay the same alarm", () => {
      const { alarm, log: events } = run([high(1, 12), gone(), high(1, 13, at + 5)], true);
      expect(events).toEqual(["raised", "condition_cleared", "condition_returned"]);
      expect(alarm).toMatchObject({ state: "unacked", conditionActive: true, raisedAt: at, peak: 13 });
    });
  });

  it("returns a chattering condition to the same alarm instead of raising a new one", () => {
    const inputs: AlarmInput[] = [high(1, 12)];
    for (let i = 1; i <= 50; i++) inputs.push(gone(9, at + 2 * i), high(1, 11, at + 2 * i + 1));
    const { alarm, log: events } = run(inputs);
    expect(events.filter((kind) => kind === "raised")).toHaveLength(1);
    expect(events.filter((kind) => kind === "condition_returned")).toHaveLength(50);
    expect(alarm).toMatchObject({ state: "unacked", raisedAt: at });
  });

  describe("levels", () => {
    it("goes up a level in the same alarm and asks for a new answer", () => {
      const acked = run([high(1, 12), ack()]).alarm;
      const { alarm, events } = transition(acked, high(2, 25, at + 10), false);
      expect(log(events)).toEqual(["HIGH level_up"]);
      expect(events[0]).toMatchObject({ level: 2, value: 25, at: at + 10 });
      expect(alarm).toMatchObject({ level: 2, state: "unacked", raisedAt: at, value: 12, peak: 25, reason: "value 25 > level 2 limit" });
    });

    it("never goes down a level while open", () => {
      const { alarm, log: events } = run([high(2, 25), high(1, 12)]);
      expect(events).toEqual(["raised"]);
      expect(alarm).toMatchObject({ level: 2, peak: 25 });
    });

    it("turns a cleared alarm whose condition returns worse into a level_up", () => {
      const { alarm, log: events } = run([high(1, 12), gone(), high(2, 30)]);
      expect(events).toEqual(["raised", "condition_cleared", "level_up"]);
      expect(alarm).toMatchObject({ state: "unacked", conditionActive: true, level: 2 });
    });
  });

  it("ignores the same condition on an acknowledged alarm, but follows its peak", () => {
    const acked = run([high(1, 12), ack()]).alarm;
    const { alarm, events } = transition(acked, high(1, 15), false);
    expect(events).toEqual([]);
    expect(alarm).toMatchObject({ state: "acked", peak: 15 });
  });

  it("tracks the peak as the minimum for a LOW alarm", () => {
    const low = (value: number): AlarmInput => ({ kind: "condition", active: true, type: "LOW", level: 1, at, value, reason: "low" });
    let alarm = transition(null, low(19), false).alarm;
    for (const value of [18.2, 18.9, 17.5, 19.1]) alarm = transition(alarm, low(value), false).alarm;
    expect(alarm).toMatchObject({ value: 19, peak: 17.5 });
  });

  describe("reset", () => {
    it("does nothing while the condition is present, answering with no events", () => {
      const active = run([high(1, 12)]).alarm;
      expect(transition(active, reset(), false)).toEqual({ alarm: active, events: [] });
      const acked = run([high(1, 12), ack()]).alarm;
      expect(transition(acked, reset(), false)).toEqual({ alarm: acked, events: [] });
    });

    it("closes an alarm whose condition is gone, recording who and why", () => {
      const latched = run([high(2, 25), gone()], true).alarm;
      const { alarm, events } = transition(latched, reset(), true);
      expect(alarm).toBeNull();
      expect(events).toMatchObject([{ kind: "closed", alarm: { state: "closed" }, note: "reset by engineer: sensor replaced" }]);
      expect(transition(run([high(1, 12), gone()]).alarm, reset(), false).events.map((event) => event.kind)).toEqual(["closed"]);
    });
  });

  it("ignores a condition of another type", () => {
    const alarm = run([high(1, 12)]).alarm;
    const low: AlarmInput = { kind: "condition", active: false, type: "LOW", at, value: 30 };
    expect(transition(alarm, low, false)).toEqual({ alarm, events: [] });
  });
});

const alarmTypes = fc.constantFrom<AlarmType>("HIGH", "LOW", "FAULT", "OFFLINE", "LOW_BATTERY");
const levels = fc.constantFrom<AlarmLevel>(1, 2);
const values = fc.option(fc.double({ noDefaultInfinity: false }), { nil: null });
const inputFor = (types: fc.Arbitrary<AlarmType>): fc.Arbitrary<AlarmInput> =>
  fc.oneof(
    fc.record({
      kind: fc.constant("condition" as const),
      active: fc.constant(true as const),
      type: types,
      level: levels,
      at: fc.integer(),
      value: values,
      reason: fc.string(),
    }),
    fc.record({ kind: fc.constant("condition" as const), active: fc.constant(false as const), type: types, at: fc.integer(), value: values }),
    fc.record({ kind: fc.constantFrom("ack" as const, "reset" as const), at: fc.integer(), by: fc.string(), comment: fc.string() }),
  );
/** Any stored alarm, including combinations the machine itself never makes. */
const anyAlarm: fc.Arbitrary<OpenAlarm> = fc.record({
  id: fc.option(fc.nat(), { nil: null }),
  type: alarmTypes,
  level: levels,
  state: fc.constantFrom("unacked" as const, "acked" as const, "cleared_unacked" as const),
  conditionActive: fc.boolean(),
  raisedAt: fc.integer(),
  value: values,
  peak: values,
  peakAt: fc.integer(),
  reason: fc.string(),
});

describe("the state machine's guarantees", () => {
  it("answers every input in every state without throwing, and the same input twice gives no new events", () => {
    fc.assert(
      fc.property(fc.option(anyAlarm, { nil: null }), inputFor(alarmTypes), fc.boolean(), (alarm, input, latching) => {
        const once = transition(alarm, input, latching);
        for (const event of once.events) expect(event.at).toBe(input.at);
        if (once.alarm !== null && alarm !== null) expect(once.alarm.level).toBeGreaterThanOrEqual(alarm.level);
        // A changed alarm is a well-formed one, whatever odd state it was stored in.
        if (once.events.length > 0 && once.alarm?.state === "cleared_unacked") expect(once.alarm.conditionActive).toBe(false);
        if (once.events.at(-1)?.kind === "closed") expect(once.alarm).toBeNull();
        expect(transition(once.alarm, input, latching).events).toEqual([]);
      }),
    );
  });

  it("over any history, raises only when nothing is open and closes only what is open", () => {
    fc.assert(
      fc.property(fc.array(inputFor(fc.constant<AlarmType>("HIGH")), { maxLength: 40 }), fc.boolean(), (inputs, latching) => {
        let alarm: OpenAlarm | null = null;
        for (const input of inputs) {
          const before: OpenAlarm | null = alarm;
          const { alarm: after, events } = transition(before, input, latching);
          for (const event of events) {
            if (event.kind === "raised") expect(before).toBeNull();
            else expect(before).not.toBeNull();
          }
          expect(after === null).toBe(events.some((event) => event.kind === "closed") || (before === null && events.length === 0));
          if (after !== null && after.state === "acked") expect(after.conditionActive).toBe(true);
          alarm = after;
        }
      }),
    );
  });
});
