import type { AlarmEvent, AlarmEventKind, AlarmLevel, AlarmType, OpenAlarm } from "./types.ts";

export type AlarmInput =
  | { kind: "condition"; active: true; type: AlarmType; level: AlarmLevel; at: number; value: number | null; reason: string }
  | { kind: "condition"; active: false; type: AlarmType; at: number; value: number | null }
  | { kind: "ack"; at: number; by: string; comment: string }
  /** An engineer closes an alarm whose condition is gone. */
  | { kind: "reset"; at: number; by: string; comment: string };

export interface Transition {
  alarm: OpenAlarm | null;
  events: AlarmEvent[];
}

const NOTHING = (alarm: OpenAlarm | null): Transition => ({ alarm, events: [] });

/**
 * The life of ONE alarm (ISA-18.2 / GB 16808): normal → unacked → acked → closed, with
 * "cleared, unacknowledged" for an alarm that cleared before anyone answered. Total: every
 * input in every state has an answer, and an input that changes nothing gives no events, so
 * feeding the same input twice is harmless.
 */
export function transition(alarm: OpenAlarm | null, input: AlarmInput, latching: boolean): Transition {
  switch (input.kind) {
    case "condition":
      // An input about another type is not about this alarm.
      if (alarm !== null && alarm.type !== input.type) return NOTHING(alarm);
      return input.active ? conditionPresent(alarm, input) : conditionGone(alarm, input, latching);
    case "ack":
      return acknowledge(alarm, input);
    case "reset":
      return reset(alarm, input);
  }
}

function conditionPresent(alarm: OpenAlarm | null, input: Extract<AlarmInput, { active: true }>): Transition {
  const { type, level, at, value, reason } = input;
  if (alarm === null) {
    const raised: OpenAlarm = { id: null, type, level, state: "unacked", conditionActive: true, raisedAt: at, value, peak: value, peakAt: at, reason };
    return { alarm: raised, events: [event("raised", raised, at, value, reason)] };
  }
  const peak = worse(type, alarm.peak, value);
  const peakAt = peak === alarm.peak ? alarm.peakAt : at;
  if (level > alarm.level) {
    // A worse condition needs a new answer, even from someone who acknowledged the milder one.
    const next: OpenAlarm = { ...alarm, level, state: "unacked", conditionActive: true, peak, peakAt, reason };
    return { alarm: next, events: [event("level_up", next, at, value, reason)] };
  }
  if (!alarm.conditionActive) {
    // Chattering returns to the same alarm: fifty crossings must not make fifty alarms.
    const state = alarm.state === "cleared_unacked" ? "unacked" : alarm.state;
    const next: OpenAlarm = { ...alarm, state, conditionActive: true, peak, peakAt, reason };
    return { alarm: next, events: [event("condition_returned", next, at, value, reason)] };
  }
  // Same or milder condition: only the peak may move; level never goes down.
  return NOTHING(peak === alarm.peak ? alarm : { ...alarm, peak, peakAt });
}

function conditionGone(alarm: OpenAlarm | null, input: Extract<AlarmInput, { active: false }>, latching: boolean): Transition {
  if (alarm === null || !alarm.conditionActive) return NOTHING(alarm);
  const { at, value } = input;
  const note = value === null ? "condition gone" : `condition gone at value ${value}`;
  if (alarm.state === "acked") {
    // Acknowledged and gone is done, latched or not.
    const gone: OpenAlarm = { ...alarm, conditionActive: false };
    return { alarm: null, events: [event("condition_cleared", gone, at, value, note), closedEvent(gone, at, value, "closed: acknowledged, condition gone")] };
  }
  // Unanswered: a latched alarm stays active until acknowledged; otherwise it waits as "cleared, unacknowledged".
  const next: OpenAlarm = { ...alarm, state: latching && alarm.state === "unacked" ? "unacked" : "cleared_unacked", conditionActive: false };
  return { alarm: next, events: [event("condition_cleared", next, at, value, note)] };
}

function acknowledge(alarm: OpenAlarm | null, input: Extract<AlarmInput, { kind: "ack" }>): Transition {
  if (alarm === null || alarm.state === "acked") return NOTHING(alarm);
  const { at } = input;
  const acked: OpenAlarm = { ...alarm, state: "acked" };
  const ackEvent = event("acked", acked, at, null, byWhom("acknowledged", input));
  if (alarm.conditionActive) return { alarm: acked, events: [ackEvent] };
  return { alarm: null, events: [ackEvent, closedEvent(acked, at, null, "closed: acknowledged, condition gone")] };
}

function reset(alarm: OpenAlarm | null, input: Extract<AlarmInput, { kind: "reset" }>): Transition {
  // Resetting a present condition would hide a live alarm: refused by doing nothing.
  if (alarm === null || alarm.conditionActive) return NOTHING(alarm);
  return { alarm: null, events: [closedEvent(alarm, input.at, null, byWhom("reset", input))] };
}

function byWhom(what: string, input: { by: string; comment: string }): string {
  return input.comment === "" ? `${what} by ${input.by}` : `${what} by ${input.by}: ${input.comment}`;
}

/** LOW alarms get worse downwards (less oxygen, less battery); the rest upwards. */
export function worse(type: AlarmType, peak: number | null, value: number | null): number | null {
  if (value === null || Number.isNaN(value)) return peak;
  if (peak === null) return value;
  return type === "LOW" || type === "LOW_BATTERY" ? Math.min(peak, value) : Math.max(peak, value);
}

export function event(kind: AlarmEventKind, alarm: OpenAlarm, at: number, value: number | null, note: string): AlarmEvent {
  return { kind, type: alarm.type, level: alarm.level, at, value, alarm, note };
}

export function closedEvent(alarm: OpenAlarm, at: number, value: number | null, note: string): AlarmEvent {
  return { kind: "closed", type: alarm.type, level: alarm.level, at, value, alarm: { ...alarm, state: "closed" }, note };
}
