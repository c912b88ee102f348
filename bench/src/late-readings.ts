// Late readings (issue 10): what judging out-of-order data costs on the ingest path, as
// ratios against storing the same readings, measured in the same run on a throwaway
// PostgreSQL. `npm run bench:late`; prints a report and one JSON line; asserts nothing.
//
// Phases, for DEVICES CH4 detectors (presets 25 / 50 %LEL), each batch as the processor
// commits it (insert, then judge):
//   store only   the readings inserted, not judged: the baseline
//   in order     1 h of live readings, one per device per batch: the fast path
//   backlog      each device back after 2 h offline: one live reading, then its backlog as
//                arrays of 100, oldest first (as the simulator's firmware sends it)
//   newest first the same, arrays newest first (some firmware): each array replays the newer ones
//   resend       after the hour in order, its last 50 readings of each device again (a broker
//                restart resends what was not acknowledged): stored once, judged once
import { performance } from "node:perf_hooks";
import { AlarmStore, ChannelStore, createPgDb, DeviceStore, MemoryBus, migrate, TelemetryStore, type TelemetryRow } from "../../packages/platform/src/index.ts";
import { AlarmEngine } from "../../worker/src/alarms/alarm-engine.ts";
import { startPostgres } from "../../test-support/postgres.ts";
import { cleanupOnExit } from "./cleanup.ts";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const STEP_S = 10;
const log = (line: string) => process.stderr.write(`${line}\n`);
const { onCleanup, cleanUp } = cleanupOnExit(log, 600_000);

const pg = await startPostgres();
onCleanup("postgres", () => pg.stop());
const db = createPgDb(pg.url, { max: 2 });
onCleanup("db", () => db.close());
await migrate(db);
const devices = new DeviceStore(db);
const telemetry = new TelemetryStore(db);
const alarms = new AlarmStore(db);
const bus = new MemoryBus();
const sns = Array.from({ length: DEVICES }, (_, i) => `LATE-${String(i).padStart(3, "0")}`);
for (const sn of sns) await devices.create({ sn, gas: "CH4", unit: "%LEL" }, "x", { name: "bench" });
const calibrations = new Map((await devices.calibrations()).map((device) => [device.sn, device]));
const clock = { now: () => Date.now() };
const engine = new AlarmEngine({
  alarms, channels: new ChannelStore(db), bus, clock, deviceOf: (sn) => calibrations.get(sn),
  readingsAfter: (sn, after) => telemetry.readingsAfter(sn, after),
  newestKeys: (sns, limits) => telemetry.newestKeys(sns, limits),
  alarmHistory: (sn) => devices.alarmHistory(sn),
});
await engine.start();
onCleanup("engine", () => engine.stop());

const T0 = Math.floor(Date.now() / 1000) - 6 * 3600;
/** A leak now and then: every device crosses level 1 and level 2 a few times an hour. */
const value = (i: number, device: number) => (Math.floor((i + device * 7) / 30) % 4 === 3 ? 55 : 5 + ((i * 13 + device) % 11));
const row = (sn: string, device: number, i: number, seqBase = 0): TelemetryRow => ({
  sn, ts: T0 + i * STEP_S, seq: seqBase + i, ppm: value(i, device), v_raw: value(i, device) + i / 1e6, bat: 3.9, temp: 25, humi: 40, rssi: -60, err: 0, flags: 0, calib_version: 1,
});

interface Timing {
  readings: number;
  storeMs: number;
  judgeMs: number;
}
async function commit(rows: TelemetryRow[], judge: boolean, into: Timing): Promise<void> {
  let start = performance.now();
  await telemetry.insertBatch(rows);
  into.storeMs += performance.now() - start;
  if (judge) {
    start = performance.now();
    await engine.readings(rows);
    into.judgeMs += performance.now() - start;
  }
  into.readings += rows.length;
}
const fresh = (): Timing => ({ readings: 0, storeMs: 0, judgeMs: 0 });

// Store only: another device set's hour, the baseline of what a batch costs to store.
const baseline = fresh();
for (let i = 0; i < 360; i++) await commit(sns.map((sn, d) => ({ ...row(`${sn}-B`, d, i) })), false, baseline);
log(`store only: ${baseline.readings} readings`);

const inOrder = fresh();
for (let i = 0; i < 360; i++) await commit(sns.map((sn, d) => row(sn, d, i)), true, inOrder);
log(`in order: ${inOrder.readings} readings`);

const resend = fresh();
await commit(sns.flatMap((sn, d) => Array.from({ length: 50 }, (_, k) => row(sn, d, 310 + k))), true, resend);
log(`resend: ${resend.readings} readings`);

async function backlog(startIndex: number, newestFirst: boolean): Promise<Timing & { replayed: number; replays: number; lateEpisodes: number }> {
  const before = { ...engine.lateStats };
  const timing = fresh();
  const gap = 720;
  // Back online: the live reading first…
  await commit(sns.map((sn, d) => row(sn, d, startIndex + gap)), true, timing);
  // …then each device's backlog, arrays of 100 (the devices' arrays interleave in the broker).
  const arrays: TelemetryRow[][][] = sns.map((sn, d) => {
    const rows = Array.from({ length: gap }, (_, k) => row(sn, d, startIndex + k));
    const chunks: TelemetryRow[][] = [];
    for (let k = 0; k < rows.length; k += 100) chunks.push(rows.slice(k, k + 100));
    return newestFirst ? chunks.reverse() : chunks;
  });
  for (let chunk = 0; chunk < arrays[0]!.length; chunk++) await commit(arrays.flatMap((list) => list[chunk]!), true, timing);
  return {
    ...timing,
    replays: engine.lateStats.replays - before.replays,
    replayed: engine.lateStats.readingsReplayed - before.readingsReplayed,
    lateEpisodes: engine.lateStats.lateEpisodes - before.lateEpisodes,
  };
}
const oldestFirst = await backlog(360, false);
log(`backlog oldest first: ${oldestFirst.readings} readings`);
const newestFirst = await backlog(360 + 721, true);
log(`backlog newest first: ${newestFirst.readings} readings`);


const perReading = (t: Timing, ms: number) => (1000 * ms) / t.readings;
const storeUs = perReading(baseline, baseline.storeMs);
const report = {
  devices: DEVICES,
  store_only_us_per_reading: round(storeUs),
  in_order: { judge_us_per_reading: round(perReading(inOrder, inOrder.judgeMs)), judge_vs_store: round(inOrder.judgeMs / baseline.storeMs) },
  backlog_oldest_first: summary(oldestFirst),
  backlog_newest_first: summary(newestFirst),
  resend: { judge_us_per_reading: round(perReading(resend, resend.judgeMs)), judge_vs_store_per_reading: round(perReading(resend, resend.judgeMs) / storeUs) },
};

function summary(t: ReturnType<typeof backlog> extends Promise<infer R> ? R : never) {
  return {
    readings: t.readings, replays: t.replays, late_episodes: t.lateEpisodes,
    replayed_per_late_reading: round(t.replayed / t.readings),
    judge_us_per_reading: round(perReading(t, t.judgeMs)),
    judge_vs_store_per_reading: round(perReading(t, t.judgeMs) / storeUs),
  };
}
function round(x: number): number {
  return Math.round(x * 100) / 100;
}

console.log(`
Late readings, ${DEVICES} devices, one throwaway PostgreSQL (ratios against storing the same readings, this run):
  store only             ${report.store_only_us_per_reading} µs/reading (baseline)
  in order (fast path)   judge ${report.in_order.judge_us_per_reading} µs/reading = ${report.in_order.judge_vs_store} × storing
  backlog, oldest first  judge ${report.backlog_oldest_first.judge_us_per_reading} µs/reading = ${report.backlog_oldest_first.judge_vs_store_per_reading} × storing; ${report.backlog_oldest_first.replayed_per_late_reading} readings replayed per late one; ${report.backlog_oldest_first.late_episodes} late episodes
  backlog, newest first  judge ${report.backlog_newest_first.judge_us_per_reading} µs/reading = ${report.backlog_newest_first.judge_vs_store_per_reading} × storing; ${report.backlog_newest_first.replayed_per_late_reading} readings replayed per late one
  resend of 50 each      judge ${report.resend.judge_us_per_reading} µs/reading = ${report.resend.judge_vs_store_per_reading} × storing`);
console.log(JSON.stringify(report));
await cleanUp();
process.exit(0);
