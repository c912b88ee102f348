import type { AlarmSettings } from "../alarms/types.ts";
import type { DeviceSeries } from "./device-series.ts";
import { countErrorBits, type ErrorBitCount } from "./error-counts.ts";
import { findFlatLines, type FlatRun } from "./flat-lines.ts";
import { baselineNoise } from "./noise.ts";
import { completeness, findGaps, medianInterval, type DataGap } from "./report-interval.ts";
import { meanOf, slopePerDay } from "./trend-slope.ts";
import { zeroDrift, type ZeroDrift } from "./zero-drift.ts";

export type HealthVerdict = "ok" | "attention" | "bad";

/** Why a device is not ok, as data: each view words it in its own language. */
export type HealthReason =
  | { code: "no_data" }
  | { code: "incomplete"; completeness: number }
  | { code: "gap"; longestMs: number; count: number }
  | { code: "flat_line"; samples: number; from: number; vRaw: number }
  | { code: "negative_drift"; share: number; lowestBaseline: number | null }
  | { code: "noisy"; noise: number; limit: number }
  | { code: "battery_falling"; slopePerDay: number }
  | { code: "battery_low"; last: number; limit: number }
  | { code: "rssi_falling"; slopePerDay: number }
  | { code: "weak_signal"; mean: number }
  | { code: "sensor_fault"; count: number }
  | { code: "error_bits"; bits: number[]; count: number };

export interface SensorHealth {
  sn: string;
  readings: number;
  /** The report interval inferred from the median gap, ms. */
  intervalMs: number | null;
  /** 0–1: readings against those expected at the interval over the window. */
  completeness: number;
  /** The longest silences (at most 5), longest first; `gapCount` counts them all. */
  gaps: DataGap[];
  gapCount: number;
  /** The longest flat line, if any run reached `flatSamples`. */
  flatLine: FlatRun | null;
  flatLineCount: number;
  zeroDrift: ZeroDrift;
  /** Std dev of first differences at baseline, in the device's unit. */
  noise: number | null;
  battery: { first: number | null; last: number | null; slopePerDay: number | null };
  rssi: { mean: number | null; slopePerDay: number | null };
  errorBits: ErrorBitCount[];
  verdict: HealthVerdict;
  reasons: HealthReason[];
}

export interface HealthOptions {
  /** The time the readings should cover (the archived days). */
  window: { from: number; to: number };
  /** Identical v_raw samples that make a flat line; default the device's stuck setting, else 30 (5 minutes at 10 s). */
  flatSamples?: number;
}

/** Thresholds of the verdict: the choice of an engineer reading the data, stated once here. */
export const HEALTH_THRESHOLDS = Object.freeze({
  /** Below this completeness the device is bad; below `attentionCompleteness`, worth a look. */
  badCompleteness: 0.8,
  attentionCompleteness: 0.98,
  /** Noise above this share of the range (1 %LEL on a 0–100 %LEL sensor). */
  noiseShareOfRange: 0.01,
  /** …or above this share of the headroom, the distance from the median to the nearest level-1 limit. */
  noiseShareOfHeadroom: 0.1,
  /** The baseline band for noise (as shares of the range and of the headroom), and how far below 0 a baseline may sink. */
  baselineBandShare: 0.05,
  baselineBandShareOfHeadroom: 0.5,
  driftToleranceShare: 0.005,
  batteryFallingVPerDay: -0.1,
  rssiFallingDbPerDay: -5,
  weakSignalDbm: -105,
  /** A sensor-fault bit on more than this share of readings makes the data untrustworthy. */
  sensorFaultShare: 0.01,
  /** Without a range in the settings, assume 0–100. */
  defaultRange: 100,
});

/** Everything the readings of one device say about its sensor, and a verdict with its reasons. */
export function sensorHealth(series: DeviceSeries, settings: AlarmSettings | null, options: HealthOptions): SensorHealth {
  const t = HEALTH_THRESHOLDS;
  const range = settings?.rangeMax ?? t.defaultRange;
  const intervalMs = medianInterval(series.at);
  const gaps = intervalMs === null ? [] : findGaps(series.at, intervalMs, options.window);
  const flatSamples = Math.max(2, options.flatSamples ?? settings?.stuckSamples ?? 30);
  const flatLines = findFlatLines(series.at, series.vRaw, flatSamples);
  const drift = zeroDrift(series.at, series.value, series.flags, range * t.driftToleranceShare);
  const headroom = limitHeadroom(series.value, settings);
  // Near a low limit (CO 17 ppm on a 0–1000 ppm sensor) the range says little: the distance to the limit decides what noise matters.
  const noiseBand = Math.min(range * t.baselineBandShare, headroom === null ? Number.POSITIVE_INFINITY : headroom * t.baselineBandShareOfHeadroom);
  const noise = baselineNoise(series.value, noiseBand).std;
  const errorBits = countErrorBits(series.err);
  const battery = { first: firstOf(series.bat), last: lastOf(series.bat), slopePerDay: slopePerDay(series.at, series.bat) };
  const rssi = { mean: meanOf(series.rssi), slopePerDay: slopePerDay(series.at, series.rssi) };
  const share = intervalMs === null ? (series.length > 0 ? 1 : 0) : completeness(series.length, intervalMs, options.window);

  const bad: HealthReason[] = [];
  const attention: HealthReason[] = [];
  if (series.length === 0) bad.push({ code: "no_data" });
  if (share < t.attentionCompleteness && series.length > 0) (share < t.badCompleteness ? bad : attention).push({ code: "incomplete", completeness: share });
  if (gaps[0]) attention.push({ code: "gap", longestMs: gaps[0].to - gaps[0].from, count: gaps.length });
  const flat = flatLines[0];
  if (flat) bad.push({ code: "flat_line", samples: flat.samples, from: flat.from, vRaw: flat.vRaw });
  if (drift.drifting) bad.push({ code: "negative_drift", share: drift.negativeShare, lowestBaseline: drift.lowestBaseline });
  const noiseLimit = Math.min(range * t.noiseShareOfRange, headroom === null ? Number.POSITIVE_INFINITY : headroom * t.noiseShareOfHeadroom);
  if (noise !== null && noise > noiseLimit) attention.push({ code: "noisy", noise, limit: noiseLimit });
  if (battery.slopePerDay !== null && battery.slopePerDay < t.batteryFallingVPerDay) attention.push({ code: "battery_falling", slopePerDay: battery.slopePerDay });
  const lowBattery = settings?.lowBatteryV ?? null;
  if (lowBattery !== null && battery.last !== null && battery.last < lowBattery) attention.push({ code: "battery_low", last: battery.last, limit: lowBattery });
  if (rssi.slopePerDay !== null && rssi.slopePerDay < t.rssiFallingDbPerDay) attention.push({ code: "rssi_falling", slopePerDay: rssi.slopePerDay });
  if (rssi.mean !== null && rssi.mean < t.weakSignalDbm) attention.push({ code: "weak_signal", mean: rssi.mean });
  const sensorFault = errorBits.find((bit) => bit.bit === 0x01);
  if (sensorFault && sensorFault.count > series.length * t.sensorFaultShare) bad.push({ code: "sensor_fault", count: sensorFault.count });
  const otherBits = errorBits.filter((bit) => bit !== sensorFault || !bad.some((reason) => reason.code === "sensor_fault"));
  if (otherBits.length > 0) attention.push({ code: "error_bits", bits: otherBits.map((bit) => bit.bit), count: otherBits.reduce((sum, bit) => sum + bit.count, 0) });

  return {
    sn: series.sn,
    readings: series.length,
    intervalMs,
    completeness: share,
    gaps: gaps.slice(0, 5),
    gapCount: gaps.length,
    flatLine: flat ?? null,
    flatLineCount: flatLines.length,
    zeroDrift: drift,
    noise,
    battery,
    rssi,
    errorBits,
    verdict: bad.length > 0 ? "bad" : attention.length > 0 ? "attention" : "ok",
    reasons: [...bad, ...attention],
  };
}

/** The distance from the median value to the nearest level-1 limit; null without limits or readings. */
function limitHeadroom(value: Float64Array, settings: AlarmSettings | null): number | null {
  if (!settings || value.length === 0) return null;
  const median = Float64Array.from(value).sort()[Math.floor(value.length / 2)]!;
  const distances = [settings.high1 ?? settings.high2, settings.low1 ?? settings.low2]
    .filter((limit): limit is number => limit !== null)
    .map((limit) => Math.abs(limit - median))
    .filter((distance) => distance > 0);
  return distances.length === 0 ? null : Math.min(...distances);
}

function firstOf(values: ArrayLike<number>): number | null {
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) return values[i]!;
  return null;
}

function lastOf(values: ArrayLike<number>): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (!Number.isNaN(values[i]!)) return values[i]!;
  return null;
}
