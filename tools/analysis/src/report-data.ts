import { countAlarms, plantHour, type AlarmCount, type AlarmHeatMap, type AnalysedDevice, type ArchiveAnalysis, type ReplayedAlarm, type SensorHealth, type TrendBuckets, type WhatIfOutcome } from "@mcs/core/analysis";
import type { ReportLang } from "./report-i18n.ts";

export interface VariantSummary {
  counts: AlarmCount[];
  total: number;
  /** Alarms raised per hour of the plant's day. */
  byHour: number[];
}

/** Everything the HTML report shows, computed once in Node; the page only draws it. */
export interface ReportData {
  lang: ReportLang;
  generatedAt: number;
  days: string[];
  window: { from: number; to: number };
  readings: number;
  devices: AnalysedDevice[];
  trends: (TrendBuckets & { sn: string })[];
  heatMap: AlarmHeatMap;
  health: SensorHealth[];
  whatIf: {
    current: VariantSummary;
    stricter: VariantSummary;
    looser: VariantSummary;
    /** null without an alarms file. */
    actual: VariantSummary | null;
    /** The first replayed alarms at the archived settings, for their times. */
    currentAlarms: ReplayedAlarm[];
  };
}

export const LISTED_ALARMS = 200;
/** 5-minute buckets for a day; more days, wider buckets. */
const TREND_BUCKETS_PER_DAY = 288;

export function reportData(analysis: ArchiveAnalysis, lang: ReportLang, now = Date.now()): ReportData {
  const { summary } = analysis;
  const buckets = Math.min(2000, TREND_BUCKETS_PER_DAY * Math.max(1, summary.days.length));
  const variants = analysis.whatIfVariants();
  const actual = analysis.actualAlarms;
  return {
    lang,
    generatedAt: now,
    days: summary.days,
    window: summary.window,
    readings: summary.readings,
    devices: summary.devices,
    trends: summary.devices.map((device) => ({ sn: device.sn, ...analysis.trend(device.sn, buckets)!.buckets })),
    heatMap: summary.heatMap,
    health: summary.health,
    whatIf: {
      current: variantSummary(variants.current),
      stricter: variantSummary(variants.stricter),
      looser: variantSummary(variants.looser),
      actual: actual ? { counts: countAlarms(actual), total: actual.length, byHour: byHour(actual) } : null,
      currentAlarms: variants.current.result.alarms.slice(0, LISTED_ALARMS),
    },
  };
}

function variantSummary(outcome: WhatIfOutcome): VariantSummary {
  return { counts: outcome.result.counts, total: outcome.result.total, byHour: byHour(outcome.result.alarms) };
}

function byHour(alarms: readonly { raisedAt: number }[]): number[] {
  const hours = new Array<number>(24).fill(0);
  for (const alarm of alarms) hours[plantHour(alarm.raisedAt)]! += 1;
  return hours;
}
