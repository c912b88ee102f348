import type { AlarmSettings } from "../alarms/types.ts";
import type { ArchiveAlarm, ArchiveManifest, ArchiveReading, ManifestDevice } from "./archive-format.ts";
import { SeriesCollector, type DeviceSeries } from "./device-series.ts";
import { downsampleTrend, type TrendBuckets } from "./downsample.ts";
import { heatMapFromAlarms, heatMapFromReadings, type AlarmHeatMap } from "./heat-map.ts";
import { sensorHealth, type SensorHealth } from "./sensor-health.ts";
import { looserSettings, stricterSettings, withOverrides, type SettingsOverride } from "./setting-variants.ts";
import { compareWithActual, replayArchive, type WhatIfComparison, type WhatIfResult } from "./what-if.ts";

const DAY_MS = 86_400_000;

/** A device as the views list it. */
export interface AnalysedDevice {
  sn: string;
  name: string | null;
  gas: string | null;
  unit: string | null;
  readings: number;
  /** From the newest manifest that lists the device; null without one. */
  settings: AlarmSettings | null;
}

/** What every view shows, small enough to post from a worker or inline in a page. */
export interface AnalysisSummary {
  window: { from: number; to: number };
  /** The UTC days covered (manifests' days, else the readings'). */
  days: string[];
  readings: number;
  devices: AnalysedDevice[];
  heatMap: AlarmHeatMap;
  health: SensorHealth[];
  /** null without an alarms file. */
  actualAlarms: number | null;
}

export interface WhatIfOutcome {
  result: WhatIfResult;
  /** null without an alarms file. */
  comparison: WhatIfComparison | null;
}

/**
 * Gathers the rows of any number of archive files (readings, alarms, manifests), then
 * analyses them. Rows are held as columns per device, never as the file's text.
 */
export interface ArchiveAnalysisOptions {
  /** The plant's IANA zone: the heat map's hours are its (default Asia/Shanghai). */
  timeZone?: string | undefined;
}

export class ArchiveAnalysisBuilder {
  constructor(private readonly options: ArchiveAnalysisOptions = {}) {}

  private readonly collector = new SeriesCollector();
  private readonly alarms: ArchiveAlarm[] = [];
  private readonly manifestDevices = new Map<string, { day: string; device: ManifestDevice }>();
  private readonly manifestDays = new Set<string>();
  private alarmsSeen = false;

  addManifest(manifest: ArchiveManifest): void {
    this.manifestDays.add(manifest.day);
    for (const device of manifest.devices) {
      const known = this.manifestDevices.get(device.sn);
      // Several days: the newest day's settings are the device's settings.
      if (!known || known.day <= manifest.day) this.manifestDevices.set(device.sn, { day: manifest.day, device });
    }
  }

  addReadings(rows: readonly ArchiveReading[]): void {
    for (const row of rows) this.collector.add(row, this.manifestDevices.get(row.sn)?.device.rows);
  }

  /** Call once per alarms file, even an empty one: "no alarms raised" differs from "no alarms file". */
  addAlarms(rows: readonly ArchiveAlarm[]): void {
    this.alarmsSeen = true;
    for (const row of rows) this.alarms.push(row);
  }

  get readings(): number {
    return this.collector.rows;
  }

  build(): ArchiveAnalysis {
    return new ArchiveAnalysis(this.collector.build(), this.alarmsSeen ? this.alarms : null, this.manifestDevices, this.manifestDays, this.options);
  }
}

export class ArchiveAnalysis {
  readonly summary: AnalysisSummary;
  private readonly bySn: Map<string, DeviceSeries>;
  private readonly deviceInfo: Map<string, AnalysedDevice>;

  constructor(
    readonly series: DeviceSeries[],
    /** null: no alarms file given. */
    readonly actualAlarms: ArchiveAlarm[] | null,
    manifestDevices: ReadonlyMap<string, { device: ManifestDevice }>,
    manifestDays: ReadonlySet<string>,
    options: ArchiveAnalysisOptions = {},
  ) {
    this.bySn = new Map(series.map((s) => [s.sn, s]));
    const devices = series.map((s): AnalysedDevice => {
      const listed = manifestDevices.get(s.sn)?.device;
      return { sn: s.sn, name: listed?.name ?? null, gas: listed?.gas ?? null, unit: listed?.unit ?? null, readings: s.length, settings: listed?.settings ?? null };
    });
    this.deviceInfo = new Map(devices.map((d) => [d.sn, d]));
    const { window, days } = windowOf(series, manifestDays);
    const settingsOf = this.settingsOf;
    this.summary = {
      window,
      days,
      readings: series.reduce((sum, s) => sum + s.length, 0),
      devices,
      heatMap: this.actualAlarms
        ? heatMapFromAlarms(devices.map((d) => d.sn), this.actualAlarms, options.timeZone)
        : heatMapFromReadings(series, settingsOf, options.timeZone),
      health: series.map((s) => sensorHealth(s, settingsOf(s.sn), { window })),
      actualAlarms: this.actualAlarms?.length ?? null,
    };
  }

  /** The archived settings of a device (null: unknown, no manifest). */
  readonly settingsOf = (sn: string): AlarmSettings | null => this.deviceInfo.get(sn)?.settings ?? null;

  /** One device's trend in `buckets` buckets over the window, with its archived limits. */
  trend(sn: string, buckets = 288): { sn: string; unit: string | null; buckets: TrendBuckets; settings: AlarmSettings | null } | null {
    const s = this.bySn.get(sn);
    if (!s) return null;
    const { from, to } = this.summary.window;
    return { sn, unit: this.deviceInfo.get(sn)?.unit ?? null, buckets: downsampleTrend(s.at, s.value, from, to, buckets), settings: this.settingsOf(sn) };
  }

  /** Replays the devices (all, or `only`) with the archived settings changed by `overrides`. */
  whatIf(overrides: readonly SettingsOverride[] = [], only?: readonly string[]): WhatIfOutcome {
    const settings = withOverrides(this.settingsOf, (sn) => this.deviceInfo.get(sn)?.gas ?? null, overrides);
    return this.replay(settings, only);
  }

  /** The archived settings, a stricter and a looser version of them (see `stricterSettings`). */
  whatIfVariants(): { current: WhatIfOutcome; stricter: WhatIfOutcome; looser: WhatIfOutcome } {
    const shifted = (change: (s: AlarmSettings) => AlarmSettings) => (sn: string) => {
      const settings = this.settingsOf(sn);
      return settings ? change(settings) : null;
    };
    return { current: this.replay(this.settingsOf), stricter: this.replay(shifted(stricterSettings)), looser: this.replay(shifted(looserSettings)) };
  }

  private replay(settingsOf: (sn: string) => AlarmSettings | null, only?: readonly string[]): WhatIfOutcome {
    const wanted = only ? new Set(only) : null;
    const series = wanted ? this.series.filter((s) => wanted.has(s.sn)) : this.series;
    const result = replayArchive(series, settingsOf);
    return { result, comparison: this.actualAlarms ? compareWithActual(result, this.actualAlarms, series.map((s) => s.sn)) : null };
  }
}

/** The whole UTC days the data covers: the manifests' days, else the days of the first and last reading. */
function windowOf(series: readonly DeviceSeries[], manifestDays: ReadonlySet<string>): { window: { from: number; to: number }; days: string[] } {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const day of manifestDays) {
    const start = Date.parse(`${day}T00:00:00.000Z`);
    if (Number.isNaN(start)) continue;
    from = Math.min(from, start);
    to = Math.max(to, start + DAY_MS);
  }
  for (const s of series) {
    if (s.length === 0) continue;
    from = Math.min(from, Math.floor(s.at[0]! / DAY_MS) * DAY_MS);
    to = Math.max(to, Math.floor(s.at[s.length - 1]! / DAY_MS) * DAY_MS + DAY_MS);
  }
  if (!Number.isFinite(from)) return { window: { from: 0, to: DAY_MS }, days: [] };
  const days: string[] = [];
  for (let day = from; day < to; day += DAY_MS) days.push(new Date(day).toISOString().slice(0, 10));
  return { window: { from, to }, days };
}
