import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { presetFor, type AlarmSettings } from "@mcs/core";
import { ALARMS_COLUMNS, FLAG_BITS, READINGS_COLUMNS, SeriesCollector, replayDevice, type ArchiveReading, type ReplayedAlarm } from "@mcs/core/analysis";
import { gaussian, mixSeed, seededRandom } from "./random.ts";

/** What a generated device is made to show; the tests check the analysis finds exactly these. */
export type DeviceRole = "normal" | "leak" | "flat_line" | "negative_drift" | "noisy" | "gap" | "battery_falling" | "err_bits";
export type GeneratedGas = "CH4" | "H2S" | "CO" | "O2";

export interface PlannedDevice {
  sn: string;
  name: string;
  gas: GeneratedGas;
  unit: string;
  role: DeviceRole;
  settings: AlarmSettings;
}

export interface GenerateOptions {
  devices: number;
  outDir: string;
  days?: number;
  /** The first UTC day, YYYY-MM-DD. */
  startDay?: string;
  seed?: number;
  /** Write the alarms file too (a replay of every reading: leave it out for a big archive of readings only). */
  alarms?: boolean;
  /** zlib level of the .csv.gz files (the archiver's default is 6). */
  gzipLevel?: number;
}

export interface GeneratedDay {
  day: string;
  readings: string;
  manifest: string;
  alarms: string | null;
  rows: number;
  alarmCount: number;
  bytes: number;
}

export interface GeneratedArchive {
  devices: PlannedDevice[];
  days: GeneratedDay[];
}

const DAY_MS = 86_400_000;
const INTERVAL_MS = 10_000;
const GASES: readonly GeneratedGas[] = ["CH4", "H2S", "CO", "O2"];
const AREAS = ["反应釜", "储罐区", "泵房", "压缩机房"];

/** Where in each block of 25 devices a trouble sits; the rest are normal. */
const ROLE_BY_SLOT: Record<number, DeviceRole> = { 1: "leak", 3: "flat_line", 5: "negative_drift", 7: "noisy", 9: "gap", 11: "battery_falling", 13: "err_bits", 17: "leak", 21: "leak" };

/** Clean-air level, noise, noise of a noisy sensor and raw volts per unit, per gas. */
const SIGNAL: Record<GeneratedGas, { base: number; sigma: number; noisySigma: number; voltsPerUnit: number; zeroV: number }> = {
  CH4: { base: 1.0, sigma: 0.15, noisySigma: 1.2, voltsPerUnit: 0.02, zeroV: 0.4 },
  H2S: { base: 1.0, sigma: 0.08, noisySigma: 0.8, voltsPerUnit: 0.016, zeroV: 0.4 },
  CO: { base: 5, sigma: 0.3, noisySigma: 1.5, voltsPerUnit: 0.0016, zeroV: 0.4 },
  O2: { base: 20.9, sigma: 0.03, noisySigma: 0.2, voltsPerUnit: 0.064, zeroV: 0.4 },
};

export function planDevices(count: number): PlannedDevice[] {
  return Array.from({ length: count }, (_, index) => {
    const role = ROLE_BY_SLOT[index % 25] ?? "normal";
    let gas = GASES[index % GASES.length]!;
    // A negative zero or a flat line means most on a sensor whose clean air reads 0.
    if (gas === "O2" && (role === "negative_drift" || role === "flat_line")) gas = "CH4";
    const preset = presetFor(gas)!;
    const settings: AlarmSettings = {
      high1: preset.high1, high2: preset.high2, low1: preset.low1, low2: preset.low2, deadband: preset.deadband,
      onDelaySamples: gas === "CH4" ? 2 : 1, offDelaySamples: 2, latching: false, lowBatteryV: 3.5, stuckSamples: 30,
      rangeMax: preset.rangeMax, monitorOnly: null,
    };
    return { sn: `GD-${String(index + 1).padStart(4, "0")}`, name: `${AREAS[index % AREAS.length]} ${index + 1}号`, gas, unit: preset.unit, role, settings };
  });
}

/** Writes `days` archive days for `devices` detectors, seeded: the same options give the same bytes. */
export async function generateArchive(options: GenerateOptions): Promise<GeneratedArchive> {
  const devices = planDevices(options.devices);
  const seed = options.seed ?? 13;
  const first = Date.parse(`${options.startDay ?? "2025-12-13"}T00:00:00.000Z`);
  if (Number.isNaN(first)) throw new Error(`startDay must be YYYY-MM-DD, found ${options.startDay}`);
  await mkdir(options.outDir, { recursive: true });
  const days: GeneratedDay[] = [];
  for (let d = 0; d < (options.days ?? 1); d++) days.push(await generateDay(devices, first + d * DAY_MS, seed, options));
  return { devices, days };
}

async function generateDay(devices: readonly PlannedDevice[], dayStart: number, seed: number, options: GenerateOptions): Promise<GeneratedDay> {
  const day = new Date(dayStart).toISOString().slice(0, 10);
  const compact = day.replaceAll("-", "");
  const readingsPath = join(options.outDir, `sensor_data_${compact}.csv.gz`);
  const writer = new GzipCsvWriter(readingsPath, options.gzipLevel ?? 6);
  await writer.line(READINGS_COLUMNS.join(","));
  const alarms: { alarm: ReplayedAlarm; device: PlannedDevice }[] = [];
  const manifestDevices = [];
  let rows = 0;
  let firstTs = Number.POSITIVE_INFINITY;
  let lastTs = Number.NEGATIVE_INFINITY;
  for (const [index, device] of devices.entries()) {
    const readings = deviceDay(device, index, dayStart, seededRandom(mixSeed(seed, index, dayStart / DAY_MS)));
    let text = "";
    for (const r of readings) {
      text += readingLine(r);
      if (text.length > 1 << 20) {
        await writer.write(text);
        text = "";
      }
    }
    await writer.write(text);
    rows += readings.length;
    if (readings.length > 0) {
      firstTs = Math.min(firstTs, readings[0]!.at);
      lastTs = Math.max(lastTs, readings[readings.length - 1]!.at);
    }
    manifestDevices.push({ sn: device.sn, name: device.name, gas: device.gas, unit: device.unit, rows: readings.length, settings: device.settings, calib_versions: [], device_times: [] });
    if (options.alarms !== false) {
      const collector = new SeriesCollector();
      for (const r of readings) collector.add(r, readings.length);
      const [series] = collector.build();
      if (series) for (const alarm of replayDevice(series, device.settings)) alarms.push({ alarm, device });
      const offline = offlineAlarm(device, readings, dayStart);
      if (offline) alarms.push({ alarm: offline, device });
    }
  }
  const written = await writer.close();
  const manifestPath = join(options.outDir, `sensor_data_${compact}.manifest.json`);
  const key = `archive/${day.slice(0, 4)}/${day.slice(5, 7)}/sensor_data_${compact}.csv.gz`;
  await writeFile(manifestPath, JSON.stringify({
    schema: 1, kind: "sensor_data", day, key, rows,
    first_ts: rows ? new Date(firstTs).toISOString() : null, last_ts: rows ? new Date(lastTs).toISOString() : null,
    device_count: devices.length, devices: manifestDevices, bytes: written.bytes, raw_bytes: written.rawBytes, sha256: written.sha256,
    created_at: new Date(dayStart + DAY_MS + 3 * DAY_MS + 2 * 3_600_000 - 8 * 3_600_000).toISOString(),
  }, null, 2));
  let alarmsPath: string | null = null;
  if (options.alarms !== false) {
    alarmsPath = join(options.outDir, `alarms_${compact}.csv.gz`);
    const alarmWriter = new GzipCsvWriter(alarmsPath, options.gzipLevel ?? 6);
    await alarmWriter.line(ALARMS_COLUMNS.join(","));
    alarms.sort((a, b) => a.alarm.raisedAt - b.alarm.raisedAt);
    for (const [i, { alarm, device }] of alarms.entries()) await alarmWriter.write(alarmLine(i + 1, alarm, device, dayStart + DAY_MS));
    await alarmWriter.close();
  }
  return { day, readings: readingsPath, manifest: manifestPath, alarms: alarmsPath, rows, alarmCount: alarms.length, bytes: written.bytes };
}

/** One device's day of readings every 10 s, with the trouble its role asks for. */
function deviceDay(device: PlannedDevice, index: number, dayStart: number, random: () => number): ArchiveReading[] {
  const signal = SIGNAL[device.gas];
  const samples = DAY_MS / INTERVAL_MS;
  const offset = (index * 7919) % INTERVAL_MS;
  const settings = device.settings;
  const leaks = device.role === "leak" ? leakEvents(device, dayStart, random) : [];
  const flatFrom = dayStart + (4 + Math.floor(random() * 4)) * 3_600_000;
  const gap = { from: dayStart + 10 * 3_600_000, to: dayStart + 13 * 3_600_000 };
  const errBursts = device.role === "err_bits" ? bursts(dayStart, random, [[0x10, 6, 30], [0x01, 2, 12]]) : [];
  const rssiBase = -60 - Math.floor(random() * 25);
  const batteryStart = 3.75 + random() * 0.2;
  const readings: ArchiveReading[] = [];
  let frozen: { ppm: number; vRaw: number; flags: number } | null = null;
  let seq = Math.floor(random() * 1000);
  for (let k = 0; k < samples; k++) {
    const at = dayStart + k * INTERVAL_MS + offset + Math.floor(random() * 200);
    if (device.role === "gap" && at >= gap.from && at < gap.to) continue;
    const part = k / samples;
    let value = signal.base + gaussian(random) * (device.role === "noisy" ? signal.noisySigma : signal.sigma);
    if (device.role === "negative_drift") value -= part * 3 * signal.base;
    for (const leak of leaks) value += leak.peak * Math.exp(-(((at - leak.at) / leak.widthMs) ** 2));
    let vRaw = round(signal.zeroV + value * signal.voltsPerUnit + gaussian(random) * 0.00005, 5);
    let flags = value < 0 ? FLAG_BITS.negative : 0;
    let ppm = value < 0 ? 0 : round(value, 2);
    if (device.role === "flat_line" && at >= flatFrom) {
      frozen ??= { ppm, vRaw, flags };
      ({ ppm, vRaw, flags } = frozen);
    }
    const bat = round(device.role === "battery_falling" ? 3.95 - 0.6 * part + gaussian(random) * 0.003 : batteryStart - 0.004 * part + gaussian(random) * 0.003, 2);
    let err = 0;
    if (device.role === "battery_falling" && bat < 3.45) err |= 0x08;
    for (const burst of errBursts) if (at >= burst.from && at < burst.to) err |= burst.bit;
    readings.push({
      sn: device.sn, at, seq: seq++, ppm, vRaw,
      temp: round(22 + 4 * Math.sin(2 * Math.PI * (part - 0.3)) + gaussian(random) * 0.2, 1),
      humi: round(55 + gaussian(random) * 2, 1),
      bat, rssi: Math.round(rssiBase + gaussian(random) * 2), err, flags,
    });
    void settings;
  }
  return readings;
}

/** One or two plumes that cross the level-1 limit (some the level-2 one); for O2 a dip below the low limit. */
function leakEvents(device: PlannedDevice, dayStart: number, random: () => number): { at: number; peak: number; widthMs: number }[] {
  const { high1, high2, low1 } = device.settings;
  const base = SIGNAL[device.gas].base;
  const count = 1 + Math.floor(random() * 2);
  return Array.from({ length: count }, () => {
    const at = dayStart + (1 + random() * 22) * 3_600_000;
    const widthMs = (3 + random() * 9) * 60_000;
    if (device.gas === "O2") return { at, widthMs, peak: -(base - (low1 ?? 19.5) + 0.3 + random() * 0.8) };
    const top = (high2 ?? (high1 ?? 10) * 2) * 1.3;
    const bottom = (high1 ?? 10) * 1.2;
    return { at, widthMs, peak: bottom + random() * (top - bottom) - base };
  });
}

function bursts(dayStart: number, random: () => number, kinds: [bit: number, count: number, samples: number][]): { bit: number; from: number; to: number }[] {
  return kinds.flatMap(([bit, count, samples]) => Array.from({ length: count }, () => {
    const from = dayStart + Math.floor(random() * (DAY_MS - samples * INTERVAL_MS));
    return { bit, from, to: from + samples * INTERVAL_MS };
  }));
}

/** The gap device's silence, as the platform's presence check raised it (3 report intervals after its last reading). */
function offlineAlarm(device: PlannedDevice, readings: readonly ArchiveReading[], dayStart: number): ReplayedAlarm | null {
  if (device.role !== "gap") return null;
  const gapStart = dayStart + 10 * 3_600_000;
  const before = readings.filter((r) => r.at < gapStart).at(-1);
  const after = readings.find((r) => r.at >= gapStart);
  if (!before || !after) return null;
  return { sn: device.sn, type: "OFFLINE", level: 1, raisedAt: before.at + 3 * INTERVAL_MS, clearedAt: after.at, peak: null, reason: "no reading for 3 report intervals" };
}

function readingLine(r: ArchiveReading): string {
  const flags = (Object.keys(FLAG_BITS) as (keyof typeof FLAG_BITS)[]).filter((name) => (r.flags & FLAG_BITS[name]) !== 0).join("|");
  return `${r.sn},${new Date(r.at).toISOString()},${r.seq},${r.ppm},${r.vRaw},${r.temp ?? ""},${r.humi ?? ""},${r.bat ?? ""},${r.rssi ?? ""},${r.err},${flags}\n`;
}

/** An alarm as the archiver writes it: answered by the operator a minute after it cleared. */
function alarmLine(id: number, alarm: ReplayedAlarm, device: PlannedDevice, dayEnd: number): string {
  const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());
  const ackedAt = alarm.clearedAt === null ? null : Math.min(dayEnd - 1, alarm.clearedAt + 60_000);
  const events = [
    { kind: "raised", level: alarm.level, value: alarm.peak, at: iso(alarm.raisedAt), actor: null, note: alarm.reason },
    ...(alarm.clearedAt === null ? [] : [
      { kind: "condition_cleared", level: alarm.level, value: null, at: iso(alarm.clearedAt), actor: null, note: "condition gone" },
      { kind: "acked", level: alarm.level, value: null, at: iso(ackedAt), actor: "operator", note: "acknowledged by operator" },
      { kind: "closed", level: alarm.level, value: null, at: iso(ackedAt), actor: null, note: "closed: acknowledged, condition gone" },
    ]),
  ];
  const fields = [
    id, device.sn, alarm.type, alarm.level, alarm.clearedAt === null ? "unacked" : "closed", alarm.peak, alarm.peak, iso(alarm.raisedAt), alarm.reason,
    iso(alarm.raisedAt), iso(alarm.raisedAt), iso(ackedAt), ackedAt === null ? null : "operator", "", iso(alarm.clearedAt), iso(ackedAt), "false", JSON.stringify(events),
  ];
  return `${fields.map(csvField).join(",")}\n`;
}

function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

/** A .csv.gz written as it goes, with the sizes and checksum the manifest records. */
class GzipCsvWriter {
  private readonly gzip;
  private readonly out;
  private readonly hash = createHash("sha256");
  private bytes = 0;
  private rawBytes = 0;

  constructor(path: string, level: number) {
    this.gzip = createGzip({ level });
    this.out = createWriteStream(path);
    this.gzip.on("data", (chunk: Buffer) => {
      this.hash.update(chunk);
      this.bytes += chunk.length;
    });
    this.gzip.pipe(this.out);
  }

  line(text: string): Promise<void> {
    return this.write(`${text}\n`);
  }

  async write(text: string): Promise<void> {
    if (text === "") return;
    const chunk = Buffer.from(text, "utf8");
    this.rawBytes += chunk.length;
    if (!this.gzip.write(chunk)) await once(this.gzip, "drain");
  }

  async close(): Promise<{ bytes: number; rawBytes: number; sha256: string }> {
    this.gzip.end();
    await finished(this.out);
    return { bytes: this.bytes, rawBytes: this.rawBytes, sha256: this.hash.digest("hex") };
  }
}
