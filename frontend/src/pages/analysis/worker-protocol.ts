import type { AlarmSettings } from "@mcs/core/analysis";
import type { AlarmCount, AnalysisSummary, ReplayedAlarm, SettingsOverride, TrendBuckets, WhatIfComparison } from "@mcs/core/analysis";

/** A file to analyse: picked from disk, or an object of the archive fetched by the worker itself. */
export type ArchiveSource = { kind: "file"; file: File } | { kind: "object"; key: string; bytes: number };

export type WorkerRequest =
  /** `timeZone`: the plant's IANA zone, whose hours the heat map counts. */
  | { type: "open"; sources: ArchiveSource[]; timeZone?: string }
  | { type: "trend"; id: number; sn: string }
  | { type: "whatIf"; id: number; overrides: SettingsOverride[]; only: string[] };

/** A replay, trimmed for posting: every count, the first alarms with their times. */
export interface WhatIfAnswer {
  counts: AlarmCount[];
  total: number;
  alarms: ReplayedAlarm[];
  comparison: WhatIfComparison | null;
}

export interface TrendAnswer {
  sn: string;
  unit: string | null;
  buckets: TrendBuckets;
  settings: AlarmSettings | null;
}

export type WorkerMessage =
  | { type: "progress"; name: string; fileIndex: number; fileCount: number; bytesRead: number; bytesTotal: number; rows: number }
  | { type: "note"; text: string }
  | { type: "summary"; summary: AnalysisSummary; parseMs: number }
  | { type: "trend"; id: number; trend: TrendAnswer | null }
  | { type: "whatIf"; id: number; whatIf: WhatIfAnswer; baseline: WhatIfAnswer }
  | { type: "error"; id?: number; message: string };

/** Alarms posted with a what-if answer; the counts cover them all. */
export const LISTED_ALARMS = 500;
