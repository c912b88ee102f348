import type { Alarm, AlarmFrame, AlarmState, AlarmType } from "@mcs/protocol";

/** An open alarm as the screen lists it: from `GET /api/alarms?state=open`, then kept current by alarm frames. */
export interface ScreenAlarm {
  id: number;
  sn: string;
  type: AlarmType;
  level: number;
  /** The value when raised. */
  ppm: number | null;
  /** The worst value seen while open (what a frame brings, or the server's `peak`). */
  peak: number | null;
  state: AlarmState;
  /** The reading's own time: for a late alarm, in the past. */
  raised_at: string;
  /** When the server knew of it (for a late alarm, after `raised_at`). */
  received_at: string;
  /** Late: raised from readings that arrived out of time order (a backlog sent after live data). */
  late: boolean;
  acked_at: string | null;
  /** Is the condition present now (gas above the limit, fault still there)? */
  condition_active: boolean;
}

export type AlarmMap = ReadonlyMap<number, ScreenAlarm>;

export function fromRest(alarm: Alarm): ScreenAlarm {
  return {
    id: alarm.id, sn: alarm.sn, type: alarm.type, level: alarm.level, ppm: alarm.ppm, peak: alarm.peak_ppm ?? alarm.peak,
    state: alarm.state, raised_at: alarm.raised_at, received_at: alarm.received_at, late: alarm.late, acked_at: alarm.acked_at,
    condition_active: alarm.condition_active,
  };
}

/** A frame that asks for attention again: a new alarm, or one that got worse. */
export function isNewAlarm(frame: AlarmFrame["data"]): boolean {
  return frame.kind === "raised" || frame.kind === "level_up";
}

/**
 * The frames whose value is a reading's (or an episode's peak): the others carry none (the
 * feed says 0), and a withdrawn episode's peak did not happen.
 */
const VALUE_KINDS = new Set(["raised", "level_up", "condition_returned", "late_episode", "revised"]);

const worse = (type: AlarmType, a: number | null, b: number | null): number | null => {
  if (a === null) return b;
  if (b === null) return a;
  return type === "LOW" || type === "LOW_BATTERY" ? Math.min(a, b) : Math.max(a, b);
};

/**
 * The list after one alarm frame (a new map when anything changed, else the same one). A
 * frame without an id cannot be placed: `undefined` says the list must be fetched again.
 */
export function applyAlarmFrame(alarms: AlarmMap, frame: AlarmFrame["data"]): AlarmMap | undefined {
  if (frame.id === undefined) return undefined;
  const next = new Map(alarms);
  if (frame.state === "closed" || frame.kind === "closed") {
    next.delete(frame.id);
    return next;
  }
  const now = new Date().toISOString();
  // For a late frame `at` is the reading's time, in the past: the alarm is placed then, not now.
  const at = frame.at ?? now;
  const known = alarms.get(frame.id);
  const base: ScreenAlarm = known ?? {
    id: frame.id, sn: frame.sn, type: frame.type, level: frame.level ?? 1, ppm: frame.ppm, peak: frame.ppm,
    state: frame.state ?? "unacked", raised_at: at, received_at: now, late: frame.late === true, acked_at: null, condition_active: true,
  };
  const updated: ScreenAlarm = {
    ...base,
    level: Math.max(base.level, frame.level ?? base.level),
    state: frame.state ?? base.state,
    peak: frame.type === "OFFLINE" || !VALUE_KINDS.has(frame.kind ?? "") ? base.peak : worse(base.type, base.peak, frame.ppm),
  };
  switch (frame.kind) {
    case "raised":
    case "level_up":
    case "condition_returned":
      updated.condition_active = true;
      break;
    case "condition_cleared":
      updated.condition_active = false;
      break;
    case "acked":
      updated.acked_at = at;
      break;
    default:
      // An unknown kind: the state it carries is all we can use.
      if (frame.state === "cleared_unacked") updated.condition_active = false;
  }
  next.set(frame.id, updated);
  return next;
}

/** Active and unanswered first, then active and answered, then gone but unanswered. */
function tier(alarm: ScreenAlarm): number {
  if (alarm.condition_active) return alarm.state === "unacked" ? 0 : 1;
  return alarm.state === "cleared_unacked" || alarm.state === "unacked" ? 2 : 3;
}

const isGas = (alarm: ScreenAlarm) => alarm.type === "HIGH" || alarm.type === "LOW";

/**
 * The order of the list (ISA-18.2 / GB 16808 practice): what needs an answer now on top;
 * within that level 2 above level 1, a gas alarm above a fault at the same level, and the
 * newest first.
 */
export function rankAlarms(alarms: Iterable<ScreenAlarm>): ScreenAlarm[] {
  return [...alarms].sort(
    (a, b) =>
      tier(a) - tier(b) ||
      b.level - a.level ||
      Number(isGas(b)) - Number(isGas(a)) ||
      Date.parse(b.raised_at) - Date.parse(a.raised_at) ||
      b.id - a.id,
  );
}

/**
 * The first alarm ("first-out"): the oldest whose condition is still present, gas alarms before
 * faults (the first detector to see gas tells where a release started).
 */
export function firstAlarm(alarms: Iterable<ScreenAlarm>): ScreenAlarm | null {
  let first: ScreenAlarm | null = null;
  for (const alarm of alarms) {
    if (!alarm.condition_active) continue;
    if (
      first === null ||
      Number(isGas(alarm)) > Number(isGas(first)) ||
      (isGas(alarm) === isGas(first) && (Date.parse(alarm.raised_at) < Date.parse(first.raised_at) || (alarm.raised_at === first.raised_at && alarm.id < first.id)))
    ) {
      first = alarm;
    }
  }
  return first;
}

/** The highest level among active, unanswered alarms (0: none): what the alarm tone plays for. */
export function soundingLevel(alarms: Iterable<ScreenAlarm>): number {
  let level = 0;
  for (const alarm of alarms) if (alarm.state === "unacked" && alarm.condition_active) level = Math.max(level, alarm.level);
  return level;
}

/** Whether the operator may acknowledge it (the server decides; this hides what it would refuse). */
export const answerable = (alarm: ScreenAlarm) => alarm.state === "unacked" || alarm.state === "cleared_unacked";
