import type { AlarmBusEvent } from "@mcs/protocol";
import type { AlarmEvent } from "@mcs/core";
import type { AlarmRecord } from "@mcs/platform";

/**
 * How long the alarm's condition lasted, in whole seconds: from raised to cleared, or to
 * now while it is still present. A condition that returned counts from the first raise.
 */
export function activeSeconds(alarm: AlarmRecord, nowMs: number): number {
  const raised = Date.parse(alarm.raised_at);
  const ended = alarm.condition_active ? nowMs : Date.parse(alarm.cleared_at ?? alarm.closed_at ?? new Date(nowMs).toISOString());
  return Math.max(0, Math.round((ended - raised) / 1000));
}

/** What the dashboard hears of an event an answer (ack, reset) made. */
export function busEventOf(alarm: AlarmRecord, event: AlarmEvent): AlarmBusEvent {
  return {
    id: alarm.id,
    sn: alarm.sn,
    type: event.type,
    level: event.level,
    kind: event.kind,
    state: event.alarm.state,
    ppm: event.value,
    at: new Date(event.at).toISOString(),
  };
}

/** Why a present condition cannot be cleared, in the words of its type. */
export function stillPresent(alarm: AlarmRecord): string {
  switch (alarm.type) {
    case "HIGH":
      return "the gas is still above the limit";
    case "LOW":
      return "the gas is still below the limit";
    case "FAULT":
      return "the fault is still present";
    case "OFFLINE":
      return "the device is still offline";
    case "LOW_BATTERY":
      return "the battery is still low";
  }
}
