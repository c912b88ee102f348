import { describe, expect, it } from "vitest";
import { reconcile, type Episode, type KnownAlarm, type OpenAlarm, type StoredEpisode } from "../../src/alarms/index.ts";
import { STEP, T0 } from "./support.ts";

const at = (sample: number) => T0 + sample * STEP;
const episode = (from: number, to: number | null, level: 1 | 2 = 1, peak = 30): Episode => ({
  type: "HIGH", level, since: at(from), sinceSeq: from, value: 26, peak, peakAt: at(from), reason: `value 26 > level ${level} limit 25`,
  endAt: to === null ? null : at(to), endSeq: to,
});
const stored = (id: number, alarmId: number, e: Episode): StoredEpisode => ({ ...e, id, alarmId, late: false });
const alarm = (id: number, over: Partial<OpenAlarm> = {}): OpenAlarm & { id: number } => ({
  type: "HIGH", level: 1, state: "unacked", conditionActive: true, raisedAt: at(10), value: 26, peak: 30, peakAt: at(10), reason: "value 26 > level 1 limit 25", ...over, id,
});
const plan = (fresh: Episode[], old: StoredEpisode[], alarms: KnownAlarm[], current: OpenAlarm[] = []) =>
  reconcile({ fresh, stored: old, alarms: new Map(alarms.map((a) => [a.id, a])), current: Object.fromEntries(current.map((a) => [a.type, a])), latching: false });
const kinds = (events: { kind: string }[]) => events.map((e) => e.kind);

describe("reconciling late readings with what was judged live", () => {
  it("changes nothing when the replay agrees with what is stored", () => {
    const live = alarm(1);
    expect(plan([episode(10, null)], [stored(5, 1, episode(10, null))], [live], [live])).toEqual({ events: [], put: [], drop: [], current: { HIGH: live } });
  });

  it("raises a late alarm for a leak found only in a backlog: the reading's time, cleared but unanswered, notified", () => {
    const result = plan([episode(3, 6, 2, 70)], [], []);
    expect(kinds(result.events)).toEqual(["raised", "condition_cleared"]);
    expect(result.events.every((e) => e.late)).toBe(true);
    expect(result.events[0]!.alarm).toMatchObject({ id: null, late: true, raisedAt: at(3), level: 2, peak: 70 });
    expect(result.current.HIGH).toMatchObject({ id: null, state: "cleared_unacked", conditionActive: false, late: true });
    expect(result.put).toEqual([{ id: null, episode: episode(3, 6, 2, 70), alarmId: null, late: true, notify: true }]);
  });

  it("joins a leak found late to the open alarm of its type, notified, never raised twice", () => {
    const live = alarm(1, { raisedAt: at(10) });
    const result = plan([episode(3, 6), episode(10, null)], [stored(5, 1, episode(10, null))], [live], [live]);
    expect(kinds(result.events)).toEqual(["late_episode"]);
    expect(result.put).toEqual([{ id: null, episode: episode(3, 6), alarmId: 1, late: true, notify: true }]);
    expect(result.current.HIGH).toMatchObject({ id: 1, state: "unacked", conditionActive: true });
  });

  it("moves a live alarm's start back when its backlog shows the leak began earlier, without a new notice", () => {
    const live = alarm(1);
    const result = plan([episode(6, null)], [stored(5, 1, episode(10, null))], [live], [live]);
    expect(kinds(result.events)).toEqual(["revised"]);
    // The episode's start was seen in late readings only: the episode is marked late, the alarm (raised live) is not.
    expect(result.put).toEqual([{ id: 5, episode: episode(6, null), alarmId: 1, late: true, notify: false }]);
    expect(result.current.HIGH?.late).toBeUndefined();
  });

  it("needs a new answer when late readings show it was worse: level 2, back to unacked, notified", () => {
    const acked = alarm(1, { state: "acked" });
    const result = plan([episode(10, null, 2, 60)], [stored(5, 1, episode(10, null))], [acked], [acked]);
    expect(kinds(result.events)).toEqual(["revised", "level_up"]);
    expect(result.current.HIGH).toMatchObject({ level: 2, state: "unacked", peak: 60 });
    expect(result.put[0]).toMatchObject({ id: 5, notify: true });
  });

  it("withdraws an episode the readings in time order do not hold, and keeps its alarm for an answer", () => {
    const live = alarm(1);
    const result = plan([], [stored(5, 1, episode(10, null))], [live], [live]);
    expect(kinds(result.events)).toEqual(["withdrawn", "condition_cleared"]);
    expect(result.drop).toEqual([5]);
    expect(result.current.HIGH).toMatchObject({ id: 1, state: "cleared_unacked", conditionActive: false, level: 1 });
  });

  it("reopens no closed alarm: an episode found late after it was answered and closed raises a late one", () => {
    const closed: KnownAlarm = { ...alarm(1, { conditionActive: false }), state: "closed" };
    const result = plan([episode(0, 4), episode(20, 24, 2, 60)], [stored(5, 1, episode(0, 4))], [closed]);
    expect(result.put.map((p) => [p.id, p.alarmId, p.notify])).toEqual([[null, null, true]]);
    expect(result.current.HIGH).toMatchObject({ id: null, late: true, level: 2, raisedAt: at(20) });
  });
});
