import { compareKeys, stepConditions, type ConditionTrack, type Episode, type ReadingInput } from "./conditions.ts";
import type { AlarmSettings } from "./types.ts";

/** A stored reading, with the counter that orders it among readings of the same second. */
export interface KeyedReading extends ReadingInput {
  seq: number;
}

/** The condition track right after the reading (at, seq): where a replay can start. */
export interface TrackCheckpoint {
  at: number;
  seq: number;
  track: ConditionTrack;
}

export interface Replay {
  track: ConditionTrack;
  /** Every episode that held during the replay (from before it, or started in it), oldest first; endAt null: still holds. */
  episodes: Episode[];
  /** One every `checkpointEveryMs` of reading time, to start later replays from. */
  checkpoints: TrackCheckpoint[];
  /** The newest reading replayed, or null. */
  last: { at: number; seq: number } | null;
}

export interface ReplayOptions {
  /** The device's settings as they were at a reading's time. */
  settingsAt(at: number): AlarmSettings;
  /** Was the device in maintenance at that time? */
  inhibitedAt(at: number): boolean;
  checkpointEveryMs: number;
}

/**
 * Judges stored readings of one device again, in time order, from a checkpoint: late
 * readings then weigh exactly as they would have had they come in order. Pure: the caller
 * loads the checkpoint and the readings after it.
 */
export function replay(start: TrackCheckpoint, readings: readonly KeyedReading[], options: ReplayOptions): Replay {
  const sorted = [...readings].sort((a, b) => compareKeys({ at: a.at, seq: a.seq }, { at: b.at, seq: b.seq }));
  let track = start.track;
  const episodes: Episode[] = [];
  const checkpoints: TrackCheckpoint[] = [];
  let lastCheckpointAt = start.at;
  let last: Replay["last"] = null;
  for (const reading of sorted) {
    const step = stepConditions(track, options.settingsAt(reading.at), reading, options.inhibitedAt(reading.at));
    track = step.track;
    episodes.push(...step.ended);
    last = { at: reading.at, seq: reading.seq };
    if (reading.at - lastCheckpointAt >= options.checkpointEveryMs) {
      checkpoints.push({ at: reading.at, seq: reading.seq, track });
      lastCheckpointAt = reading.at;
    }
  }
  for (const [type, condition] of Object.entries(track.active)) {
    if (condition) episodes.push({ ...condition, type: type as Episode["type"], endAt: null, endSeq: null });
  }
  episodes.sort((a, b) => compareKeys(startOf(a), startOf(b)));
  return { track, episodes, checkpoints, last };
}

export function startOf(episode: Pick<Episode, "since" | "sinceSeq">): { at: number; seq: number } {
  return { at: episode.since, seq: episode.sinceSeq };
}

/** Where an episode ended, or null while it holds. */
export function endOf(episode: Pick<Episode, "endAt" | "endSeq">): { at: number; seq: number } | null {
  return episode.endAt === null ? null : { at: episode.endAt, seq: episode.endSeq ?? 0 };
}
