import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  ALARMS_HEADER, ARCHIVE_SCHEMA_VERSION, archiveKeys, AUDIT_HEADER, calibVersionAt, compareReadingKeys, dayOf, deviceTimesOf, parseReadingLine, readingKey, readingLine,
  SENSOR_DATA_HEADER, type ArchivedDevice, type ArchivedReading, type SensorDataManifest,
} from "@mcs/core";
import {
  alarmSettingsOf, ArchiveStore, createLogger, describeStoreError, DeviceStore, digestOf, gunzipLines, GzipLineWriter, openArchiveStore, RecordsDays,
  SettingsStore, TelemetryDays, type ArchiveRunRecord, type Clock, type Db, type ObjectStore, type StoredReading, type WrittenFile,
} from "@mcs/platform";

const log = createLogger("worker.archive");
const DAY_MS = 86_400_000;
const HEARTBEAT_MS = 20_000;

/** Where a test stops the archiver as a crash would: after a day's upload, or after its delete. */
export type ArchiveCrashPoint = "uploaded" | "freed";

export interface ArchiverOptions {
  db: Db;
  clock: Clock;
  /** `MCS_DATA_DIR`: the archive folder when no object storage is set up, and the temporary files. */
  dataDir: string;
  /** Hot days until someone sets the retention (`MCS_RETENTION_DAYS`). */
  defaultHotDays: number;
  /** Tests: throws here, as a crash would stop the process. */
  crashAt?: (point: ArchiveCrashPoint, day: string) => void;
}

interface RunTotals {
  days: string[];
  daysTotal: number;
  rows: number;
  bytes: number;
  rawBytes: number;
}

/**
 * The archive (docs/archive.md): each whole day older than the retention is written as
 * CSV.GZ with its manifest, uploaded, read back and checked, and only then freed in the
 * database. Crash-safe: before the check the day is still local; after it the object is
 * verified; a rerun merges what is local with what is stored, so nothing is doubled.
 */
export class Archiver {
  readonly runs: ArchiveStore;
  private readonly settings: SettingsStore;
  private readonly telemetry: TelemetryDays;
  private readonly records: RecordsDays;
  private readonly devices: DeviceStore;

  constructor(private readonly options: ArchiverOptions) {
    this.runs = new ArchiveStore(options.db);
    this.settings = new SettingsStore(options.db);
    this.telemetry = new TelemetryDays(options.db);
    this.records = new RecordsDays(options.db);
    this.devices = new DeviceStore(options.db);
  }

  /** Runs the oldest queued run if no other is running; the run's id, or null when there was none to take. */
  async runNext(): Promise<number | null> {
    const run = await this.runs.claim(this.options.clock.now());
    if (!run) return null;
    await this.execute(run);
    return run.id;
  }

  private async execute(run: ArchiveRunRecord): Promise<void> {
    const clock = this.options.clock;
    const started = clock.now();
    const totals: RunTotals = { days: [], daysTotal: 0, rows: 0, bytes: 0, rawBytes: 0 };
    const heartbeat = setInterval(() => void this.runs.heartbeat(run.id, clock.now()).catch(() => undefined), HEARTBEAT_MS);
    const temp = join(this.options.dataDir, "tmp", `archive-${run.id}`);
    let store: ObjectStore | undefined;
    let error: string | null = null;
    try {
      const retention = await this.settings.retention({ hot_days: this.options.defaultHotDays });
      if (run.trigger === "schedule" && !retention.archive) {
        log.info({ run: run.id }, "the nightly archive is turned off in the settings: nothing archived");
        return;
      }
      const before = run.before ?? dayOf(started - retention.hot_days * DAY_MS);
      const restored = await this.runs.restoredSince(started - retention.hot_days * DAY_MS);
      const readingDays = new Set((await this.telemetry.daysWithReadings(before)).filter((day) => !restored.has(day)));
      const recordDays = new Set(await this.records.daysWithRecords(before));
      const archived = await this.runs.archivedDays();
      // A day of alarms and audit only (no readings) is archived once; one with readings each time it has them.
      const days = [...new Set([...readingDays, ...[...recordDays].filter((day) => !archived.has(day))])].sort();
      const purgeBefore = dayOf(started - retention.records_days * DAY_MS);
      const purgeDays = await this.records.daysWithRecords(purgeBefore);
      totals.daysTotal = days.length;
      await this.runs.progress(run.id, totals, clock.now());
      log.info({ run: run.id, before, days: days.length, purge: purgeDays.length }, "archive run started");
      if (days.length === 0 && purgeDays.length === 0) return;
      store = await openArchiveStore(this.settings, this.options.dataDir);
      await mkdir(temp, { recursive: true });
      for (const day of days) {
        const done = await this.archiveDay(store, day, readingDays.has(day), temp, run.id);
        totals.days.push(day);
        totals.rows += done.rows;
        totals.bytes += done.bytes;
        totals.rawBytes += done.rawBytes;
        await this.runs.progress(run.id, totals, clock.now());
      }
      for (const day of purgeDays) await this.purgeRecords(store, day, temp);
    } catch (caught) {
      error = describeStoreError(store, caught);
      log.error({ err: caught, run: run.id, done: totals.days }, "archive run failed: the days not done stay in the database");
    } finally {
      clearInterval(heartbeat);
      await store?.close().catch(() => undefined);
      await rm(temp, { recursive: true, force: true }).catch(() => undefined);
      await this.runs.progress(run.id, totals, clock.now()).catch(() => undefined);
      await this.runs.finish(run.id, { error }, clock.now());
      log.info({ run: run.id, days: totals.days.length, rows: totals.rows, bytes: totals.bytes, error }, "archive run finished");
    }
  }

  /** One day: its readings (merged with what the store already has), alarms and audit, verified, then freed locally. */
  private async archiveDay(store: ObjectStore, day: string, hasReadings: boolean, temp: string, runId: number): Promise<{ rows: number; bytes: number; rawBytes: number }> {
    const keys = archiveKeys(day);
    let rows = 0;
    let bytes = 0;
    let rawBytes = 0;
    let local = 0;
    let sha256 = "";
    if (hasReadings) {
      const file = join(temp, `sensor_data_${day}.csv.gz`);
      const written = await this.writeReadings(store, day, file);
      local = written.local;
      await this.uploadVerified(store, keys.sensor_data, file, written, "application/gzip");
      const manifest: SensorDataManifest = {
        schema: ARCHIVE_SCHEMA_VERSION, kind: "sensor_data", day, key: keys.sensor_data, rows: written.rows,
        first_ts: written.first === null ? null : new Date(written.first).toISOString(), last_ts: written.last === null ? null : new Date(written.last).toISOString(),
        device_count: written.devices.length, devices: written.devices, bytes: written.bytes, raw_bytes: written.rawBytes, sha256: written.sha256,
        created_at: new Date(this.options.clock.now()).toISOString(),
      };
      const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, "utf8");
      await store.put(keys.manifest, manifestBytes, "application/json");
      const back = await store.get(keys.manifest);
      if (!back?.equals(manifestBytes)) throw new Error(`${keys.manifest} read back ${back ? "different" : "missing"} from ${store.target}`);
      ({ rows, bytes, rawBytes, sha256 } = written);
    }
    for (const [kind, header, lines] of [
      ["alarms", ALARMS_HEADER, await this.records.alarmLines(day)],
      ["audit", AUDIT_HEADER, await this.records.auditLines(day)],
    ] as const) {
      if (lines.length === 0 && !(await store.head(keys[kind]))) continue;
      const written = await this.writeLines(join(temp, `${kind}_${day}.csv.gz`), header, lines);
      await this.uploadVerified(store, keys[kind], join(temp, `${kind}_${day}.csv.gz`), written, "application/gzip");
      bytes += written.bytes;
      rawBytes += written.rawBytes;
    }
    this.options.crashAt?.("uploaded", day);
    if (hasReadings) {
      if (await this.telemetry.free(day, local)) {
        log.info({ day, rows, key: keys.sensor_data }, "day archived and verified: its readings freed in the database");
      } else {
        log.warn({ day }, "readings of this day arrived during the archive: the day stays in the database and is archived again next run");
      }
      this.options.crashAt?.("freed", day);
      await this.runs.recordDay({ day, key: keys.sensor_data, rows, bytes, sha256 }, runId, this.options.clock.now());
    } else {
      // A day of alarms and audit only: recorded so that it is archived once.
      await this.runs.recordDay({ day, key: keys.alarms, rows: 0, bytes, sha256 }, runId, this.options.clock.now());
    }
    return { rows, bytes, rawBytes };
  }

  /**
   * The day's readings in the archive's order, from the database merged with the object
   * already stored for that day (an earlier run, or one that crashed before the delete):
   * a reading in both is written once.
   */
  private async writeReadings(store: ObjectStore, day: string, file: string): Promise<WrittenFile & { rows: number; local: number; first: number | null; last: number | null; devices: ArchivedDevice[] }> {
    const keys = archiveKeys(day);
    const stored = await store.getStream(keys.sensor_data);
    const storedManifest = stored ? await readManifest(store, keys.manifest) : null;
    const storedDevices = new Map((storedManifest?.devices ?? []).map((device) => [device.sn, device]));
    const storedDeviceTimes = deviceTimesOf(storedManifest?.devices ?? []);
    const known = new Map((await this.devices.list()).map((device) => [device.sn, device]));
    const writer = new GzipLineWriter(file);
    await writer.line(SENSOR_DATA_HEADER);

    const devices = new Map<string, ArchivedDevice>();
    let rows = 0;
    let local = 0;
    let first: number | null = null;
    let last: number | null = null;
    const deviceOf = (sn: string): ArchivedDevice => {
      let device = devices.get(sn);
      if (!device) {
        const record = known.get(sn);
        device = {
          sn, name: record?.name ?? null, gas: record?.gas ?? null, unit: record?.unit ?? null, rows: 0,
          settings: record ? alarmSettingsOf(record) : null, calib_versions: [], device_times: [],
        };
        devices.set(sn, device);
      }
      return device;
    };
    const write = async (reading: ArchivedReading, calibVersion: number, deviceTs: number | null) => {
      const device = deviceOf(reading.sn);
      const lastVersion = device.calib_versions.at(-1)?.[2];
      if (lastVersion !== calibVersion) device.calib_versions.push([reading.ts, reading.seq, calibVersion]);
      if (deviceTs !== null) device.device_times.push([reading.ts, reading.seq, deviceTs]);
      device.rows++;
      rows++;
      first = first === null ? reading.ts : Math.min(first, reading.ts);
      last = last === null ? reading.ts : Math.max(last, reading.ts);
      await writer.line(readingLine(reading));
    };

    const fromStore = stored ? storedReadings(gunzipLines(stored), keys.sensor_data) : undefined;
    const fromDb = this.localReadings(day);
    let a = await fromDb.next();
    let b = fromStore ? await fromStore.next() : ({ done: true, value: undefined } as const);
    try {
      while (!a.done || !b.done) {
        const order = a.done ? 1 : b.done ? -1 : compareReadingKeys(a.value, b.value);
        if (order <= 0) {
          const reading = a.value as StoredReading;
          await write(reading, reading.calib_version, reading.device_ts);
          local++;
          a = await fromDb.next();
          if (order === 0) b = await fromStore!.next();
        } else {
          const reading = b.value as ArchivedReading;
          const before = storedDevices.get(reading.sn);
          const deviceTs = storedDeviceTimes.get(readingKey(reading.sn, reading.ts, reading.seq)) ?? null;
          await write(reading, before ? calibVersionAt(before.calib_versions, reading.ts, reading.seq) : 0, deviceTs);
          b = await fromStore!.next();
        }
      }
    } catch (error) {
      await writer.finish().catch(() => undefined);
      throw error;
    }
    const written = await writer.finish();
    return { ...written, rows, local, first, last, devices: [...devices.values()] };
  }

  private async *localReadings(day: string): AsyncGenerator<StoredReading> {
    for (const sn of await this.telemetry.devicesOf(day)) yield* this.telemetry.readings(sn, day);
  }

  private async writeLines(file: string, header: string, lines: readonly string[]): Promise<WrittenFile> {
    const writer = new GzipLineWriter(file);
    await writer.line(header);
    for (const line of lines) await writer.line(line);
    return writer.finish();
  }

  /** Uploads the file and reads the object back: the same size and SHA-256, or it throws. */
  private async uploadVerified(store: ObjectStore, key: string, file: string, written: WrittenFile, contentType: string): Promise<void> {
    await store.putFile(key, file, contentType);
    const head = await store.head(key);
    if (!head) throw new Error(`${key} is not in ${store.target} after its upload`);
    if (head.bytes !== written.bytes) throw new Error(`${key} holds ${head.bytes} bytes in ${store.target}, ${written.bytes} were uploaded`);
    const stream = await store.getStream(key);
    const back = stream ? await digestOf(stream) : null;
    if (back?.sha256 !== written.sha256) throw new Error(`${key} read back from ${store.target} with another checksum than was uploaded`);
  }

  /** Alarms and audit older than their retention: archived once more as they are now, verified, then removed. */
  private async purgeRecords(store: ObjectStore, day: string, temp: string): Promise<void> {
    const keys = archiveKeys(day);
    for (const [kind, header, lines] of [
      ["alarms", ALARMS_HEADER, await this.records.alarmLines(day)],
      ["audit", AUDIT_HEADER, await this.records.auditLines(day)],
    ] as const) {
      if (lines.length === 0) continue;
      const file = join(temp, `${kind}_${day}.final.csv.gz`);
      const written = await this.writeLines(file, header, lines);
      await this.uploadVerified(store, keys[kind], file, written, "application/gzip");
    }
    const purged = await this.records.purge(day);
    log.info({ day, ...purged }, "alarms and audit past their retention: archived, verified and removed from the database");
  }
}

async function readManifest(store: ObjectStore, key: string): Promise<SensorDataManifest | null> {
  const bytes = await store.get(key);
  if (!bytes) return null;
  try {
    return JSON.parse(bytes.toString("utf8")) as SensorDataManifest;
  } catch {
    log.warn({ key }, "the stored manifest is not valid JSON: calibration versions of readings only in the object are written as 0");
    return null;
  }
}

/** The readings of an archived file, checked line by line. */
async function* storedReadings(lines: AsyncIterable<string>, key: string): AsyncGenerator<ArchivedReading> {
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (lineNo === 1) {
      if (line !== SENSOR_DATA_HEADER) throw new Error(`${key} in the store does not start with the archive's header: not merged, the day stays in the database`);
      continue;
    }
    if (line === "") continue;
    try {
      yield parseReadingLine(line);
    } catch (error) {
      throw new Error(`${key} line ${lineNo}: ${(error as Error).message}: not merged, the day stays in the database`);
    }
  }
}
