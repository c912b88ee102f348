import { event, transition, worse } from "./alarm-state.ts";
import { compareKeys, type Episode } from "./conditions.ts";
import { endOf, startOf } from "./replay.ts";
import { READING_ALARM_TYPES, type AlarmEvent, type AlarmEventKind, type AlarmState, type AlarmType, type OpenAlarm, type ReadingAlarmType } from "./types.ts";

/** An episode as stored: which alarm it belongs to, and whether late readings found it. */
export interface StoredEpisode extends Episode {
  id: number;
  alarmId: number;
  late: boolean;
}

/** An alarm as the store has it, open or closed. */
export type KnownAlarm = Omit<OpenAlarm, "state" | "id"> & { id: number; state: AlarmState };

/** A working alarm: id null is the new late alarm of its type. */
type Alarm = Omit<OpenAlarm, "state"> & { state: AlarmState };

export interface ReconcileInput {
  /** The replay's episodes (every type). */
  fresh: readonly Episode[];
  /** The stored episodes of the same stretch of time: those that ended after the replay's start, or still hold. */
  stored: readonly StoredEpisode[];
  /** Every alarm that owns one of `stored`. */
  alarms: ReadonlyMap<number, KnownAlarm>;
  /** The device's open alarm per type, as the live engine holds them. */
  current: Partial<Record<AlarmType, OpenAlarm>>;
  latching: boolean;
}

/** An episode to write: `id` null is a new row; `alarmId` null is the new late alarm of its type. */
export interface EpisodePut {
  id: number | null;
  episode: Episode;
  alarmId: number | null;
  late: boolean;
  /** Tell people: the episode was found only in late readings, or made its alarm worse. */
  notify: boolean;
}

export interface ReconcilePlan {
  /** In order; an event whose alarm id is null is about the new late alarm of its type (its `raised` comes first). */
  events: AlarmEvent[];
  put: EpisodePut[];
  /** Stored episodes the replay does not have. */
  drop: number[];
  /** The open alarm per type afterwards. */
  current: Partial<Record<AlarmType, OpenAlarm>>;
}

/**
 * What late readings change: the stored episodes of a stretch of time against the replay's
 * (the same readings in time order). Episodes that overlap are the same condition and
 * stay with their alarm (its start, end, level or peak revised); an episode found only in
 * late readings joins the open alarm of its type, or raises a new one marked late; a stored
 * episode the replay does not have is withdrawn, its alarm kept. Alarms are never
 * downgraded: level and peak only rise, and an alarm someone must answer stays open.
 */
export function reconcile(input: ReconcileInput): ReconcilePlan {
  const planner = new Planner(input);
  for (const type of READING_ALARM_TYPES) {
    const stored = input.stored.filter((episode) => episode.type === type).sort(byStart);
    const fresh = input.fresh.filter((episode) => episode.type === type).sort(byStart);
    for (const component of components(stored, fresh)) planner.settle(type, component.stored, component.fresh);
  }
  return planner.plan;
}

class Planner {
  readonly plan: ReconcilePlan;
  private readonly alarms = new Map<number, Alarm>();
  /** The late alarm raised in this plan, per type (at most one: it stays open until someone answers). */
  private readonly raised = new Map<AlarmType, Alarm>();

  constructor(private readonly input: ReconcileInput) {
    this.plan = { events: [], put: [], drop: [], current: { ...input.current } };
    for (const [id, alarm] of input.alarms) this.alarms.set(id, { ...alarm });
    for (const alarm of Object.values(input.current)) if (alarm?.id != null) this.alarms.set(alarm.id, { ...alarm });
  }

  settle(type: ReadingAlarmType, stored: StoredEpisode[], fresh: Episode[]): void {
    if (identical(stored, fresh)) return;
    if (fresh.length === 0) {
      for (const episode of stored) this.withdraw(episode, "late readings show the condition did not hold then", true);
      return;
    }
    const target = this.targetFor(type, stored, fresh);
    const own = target.id === null ? [] : stored.filter((episode) => episode.alarmId === target.id);
    for (const episode of stored) {
      if (!own.includes(episode)) this.withdraw(episode, target.id === null ? "moved to a late alarm" : `merged into alarm ${target.id} by late readings`, true);
    }
    for (const episode of own.slice(fresh.length)) this.withdraw(episode, "late readings show the condition did not hold then", false);

    const known = target.id === null ? this.raised.get(type) : this.alarms.get(target.id);
    const levelBefore = known?.level ?? 0;
    let alarm: Alarm = known ? { ...known } : raisedLate(type, fresh);
    for (const episode of fresh) {
      const peak = worse(type, alarm.peak, episode.peak);
      if (peak !== alarm.peak) alarm = { ...alarm, peak, peakAt: episode.peakAt };
    }
    const worst = fresh.reduce((a, b) => (b.level > a.level ? b : a));
    if (!known) this.emit("raised", alarm, fresh[0]!.since, fresh[0]!.value, `late readings: ${fresh[0]!.reason}`);

    fresh.forEach((episode, index) => {
      const reused = own[index];
      // Found late: nothing stored covered it (new news), or only what late readings had found.
      const unseen = !stored.some((candidate) => overlaps(candidate, episode));
      const late = !stored.some((candidate) => !candidate.late && overlaps(candidate, episode));
      const madeWorse = known !== undefined && episode === worst && worst.level > levelBefore;
      const raisesIt = !known && index === 0;
      // An episode late readings moved back in time began where only they could see: late too.
      const startedLate = reused !== undefined && (reused.late || compareKeys(startOf(episode), startOf(reused)) < 0);
      this.plan.put.push({ id: reused?.id ?? null, episode, alarmId: target.id, late: late || startedLate, notify: unseen || madeWorse || raisesIt });
      if (raisesIt) return;
      if (unseen) this.emit("late_episode", alarm, episode.since, episode.peak, `late readings: ${describe(episode)}`);
      else if (reused && !same(reused, episode)) this.emit("revised", alarm, episode.since, episode.peak, `late readings: ${describe(reused)} is now ${describe(episode)}`);
    });

    const open = fresh.find((episode) => episode.endAt === null);
    if (alarm.state !== "closed") {
      if (open && !alarm.conditionActive) {
        alarm = this.transit(alarm, { kind: "condition", active: true, type, level: open.level, at: open.since, value: open.value, reason: open.reason });
      }
      if (worst.level > alarm.level) {
        alarm = { ...alarm, level: worst.level, state: "unacked" };
        this.emit("level_up", alarm, worst.since, worst.peak, `late readings: ${describe(worst)}`);
      }
      const last = fresh[fresh.length - 1]!;
      if (!open && alarm.conditionActive && (!known || stored.some((episode) => episode.alarmId === target.id && episode.endAt === null))) {
        alarm = this.transit(alarm, { kind: "condition", active: false, type, at: last.endAt!, value: null });
      }
    }
    this.keep(alarm);
  }

  /** Where a component's episodes go: its open alarm; else its closed one when nothing gets worse; else the type's open alarm or a new late one. */
  private targetFor(type: ReadingAlarmType, stored: StoredEpisode[], fresh: Episode[]): { id: number | null } {
    const owners = [...new Set(stored.map((episode) => episode.alarmId))].map((id) => this.alarms.get(id)).filter((alarm): alarm is Alarm => alarm !== undefined);
    const open = owners.find((alarm) => alarm.state !== "closed");
    if (open) return { id: open.id };
    const first = owners[0];
    const worse = fresh.some((episode) => episode.endAt === null) || (first !== undefined && fresh.some((episode) => episode.level > first.level));
    if (first && !worse) return { id: first.id };
    const current = this.plan.current[type];
    return { id: current ? (current.id ?? null) : null };
  }

  /** `settleCondition`: the alarm's condition ends with the episode (not when the same alarm takes the replay's episodes). */
  private withdraw(episode: StoredEpisode, why: string, settleCondition: boolean): void {
    this.plan.drop.push(episode.id);
    let alarm = this.alarms.get(episode.alarmId);
    if (!alarm) return;
    this.emit("withdrawn", alarm, episode.since, episode.peak, `${describe(episode)}: ${why}`);
    if (settleCondition && episode.endAt === null && alarm.conditionActive && alarm.state !== "closed") {
      alarm = this.transit(alarm, { kind: "condition", active: false, type: episode.type, at: episode.since, value: null });
    }
    this.keep(alarm);
  }

  /** The state machine's own answer to a condition input, its events marked late. */
  private transit(alarm: Alarm, input: Parameters<typeof transition>[1]): Alarm {
    const latching = alarm.type === "HIGH" || alarm.type === "LOW" ? this.input.latching : false;
    const { alarm: after, events } = transition(alarm as OpenAlarm, input, latching);
    for (const e of events) this.plan.events.push({ ...e, late: true, note: `late readings: ${e.note}` });
    const closed = events.find((e) => e.kind === "closed");
    return after ?? { ...(closed?.alarm ?? alarm), state: "closed" };
  }

  private emit(kind: AlarmEventKind, alarm: Alarm, at: number, value: number | null, note: string): void {
    this.plan.events.push({ ...event(kind, alarm as OpenAlarm, at, value, note), late: true });
  }

  private keep(alarm: Alarm): void {
    if (alarm.id !== null) this.alarms.set(alarm.id, alarm);
    else this.raised.set(alarm.type, alarm);
    const current = this.plan.current[alarm.type];
    const isCurrent = alarm.id === null ? current === undefined || current.id === null : current?.id === alarm.id;
    if (!isCurrent) return;
    if (alarm.state === "closed") delete this.plan.current[alarm.type];
    else this.plan.current[alarm.type] = alarm as OpenAlarm;
  }
}

function raisedLate(type: ReadingAlarmType, fresh: Episode[]): Alarm {
  const first = fresh[0]!;
  return {
    id: null, type, level: first.level, state: "unacked", conditionActive: true, raisedAt: first.since,
    value: first.value, peak: first.peak, peakAt: first.peakAt, reason: first.reason, late: true,
  };
}

/** Groups stored and fresh episodes of one type into runs that overlap in time (half-open: [start, end)). */
function components(stored: StoredEpisode[], fresh: Episode[]): { stored: StoredEpisode[]; fresh: Episode[] }[] {
  const all = [...stored.map((episode) => ({ episode, stored: true })), ...fresh.map((episode) => ({ episode, stored: false }))].sort((a, b) => byStart(a.episode, b.episode));
  const result: { stored: StoredEpisode[]; fresh: Episode[] }[] = [];
  let reach: { at: number; seq: number } | null | undefined; // undefined: no component open; null: it reaches the end of time
  for (const item of all) {
    const start = startOf(item.episode);
    if (reach === undefined || (reach !== null && compareKeys(start, reach) >= 0)) {
      result.push({ stored: [], fresh: [] });
      reach = endOf(item.episode);
    } else if (reach !== null) {
      const end = endOf(item.episode);
      reach = end === null || compareKeys(end, reach) > 0 ? end : reach;
    }
    const current = result[result.length - 1]!;
    if (item.stored) current.stored.push(item.episode as StoredEpisode);
    else current.fresh.push(item.episode);
  }
  return result;
}

function overlaps(a: Episode, b: Episode): boolean {
  const aEnd = endOf(a);
  const bEnd = endOf(b);
  return (bEnd === null || compareKeys(startOf(a), bEnd) < 0) && (aEnd === null || compareKeys(startOf(b), aEnd) < 0);
}

function byStart(a: Episode, b: Episode): number {
  return compareKeys(startOf(a), startOf(b));
}

function same(a: Episode, b: Episode): boolean {
  return (
    a.since === b.since && a.sinceSeq === b.sinceSeq && a.endAt === b.endAt && (a.endSeq ?? null) === (b.endSeq ?? null) &&
    a.level === b.level && a.peak === b.peak && a.peakAt === b.peakAt && a.value === b.value
  );
}

function identical(stored: StoredEpisode[], fresh: Episode[]): boolean {
  return stored.length === fresh.length && stored.every((episode, index) => same(episode, fresh[index]!));
}

/** "HIGH level 2 from 2026-01-05T08:00:00Z to 2026-01-05T08:05:00Z, peak 80": an engineer reads it in the event log. */
export function describe(episode: Episode): string {
  const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
  const until = episode.endAt === null ? "still holding" : `to ${iso(episode.endAt)}`;
  return `${episode.type} level ${episode.level} from ${iso(episode.since)} ${until}, peak ${episode.peak}`;
}
