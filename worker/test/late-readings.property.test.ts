import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlarmStore, ChannelStore, DeviceStore, TelemetryStore, type Ports, type TelemetryRow } from "@mcs/platform";
import { AlarmEngine } from "../src/alarms/alarm-engine.ts";
import { FakeClock } from "../../test-support/fake-clock.ts";
import { openTestPorts } from "../../test-support/ports.ts";

// Issue 10, acceptance: for any readings of one device, delivered in any interleaving of
// live data, backlog arrays and resends, the alarm episodes stored (type, level, start, end)
// are those of the same readings delivered once in time order; those found only in late
// readings are marked late. Real engine, real stores, real PostgreSQL; no MQTT (that is in
// server/test/fail-safe.test.ts): each message is stored and judged as the processor does.
const T0 = Date.parse("2026-11-30T08:00:00Z");
const STEP_S = 10;

interface Reading {
  value: number;
  v_raw: number;
  err: number;
  bat: number;
}

/** One message: a live reading, a backlog array (oldest first), or a resend of an earlier message. */
type Message = number[];

const reading: fc.Arbitrary<Reading> = fc.record({
  value: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 60 }) }, { weight: 1, arbitrary: fc.constantFrom(24, 26, 49, 51, 120) }),
  v_raw: fc.oneof({ weight: 6, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) }, { weight: 1, arbitrary: fc.constant(0.5) }),
  err: fc.constantFrom(0, 0, 0, 0, 0, 0, 1),
  bat: fc.constantFrom(3.9, 3.9, 3.9, 3.4),
});

interface Settings {
  deadband: number;
  on_delay_samples: number;
  off_delay_samples: number;
  latching: boolean;
  stuck_samples: number | null;
}

const settings: fc.Arbitrary<Settings> = fc.record({
  deadband: fc.constantFrom(0, 2, 5),
  on_delay_samples: fc.integer({ min: 1, max: 3 }),
  off_delay_samples: fc.integer({ min: 1, max: 3 }),
  latching: fc.boolean(),
  stuck_samples: fc.constantFrom(null, 3),
});

/**
 * A device's life: its readings in time order, and how they were delivered. Each stretch is
 * either sent live (one message per reading, in order) or held back and sent later as one
 * backlog array, after some of the live messages that follow it; any message may be resent.
 */
const history = fc
  .record({
    readings: fc.array(reading, { minLength: 4, maxLength: 36 }),
    cuts: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
    backlog: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
    delay: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 7, maxLength: 7 }),
    resends: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 4 }),
  })
  .map(({ readings, cuts, backlog, delay, resends }) => {
    const bounds = [...new Set([0, ...cuts.map((cut) => cut % readings.length), readings.length])].sort((a, b) => a - b);
    const live: Message[] = [];
    const held: { message: Message; after: number }[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const indexes = Array.from({ length: bounds[i + 1]! - bounds[i]! }, (_, k) => bounds[i]! + k);
      if (backlog[i] && indexes.length > 0) held.push({ message: indexes, after: live.length + delay[i]! });
      else for (const index of indexes) live.push([index]);
    }
    const messages: Message[] = [];
    for (let i = 0; i <= live.length; i++) {
      for (const h of held) if (Math.min(h.after, live.length) === i) messages.push(h.message);
      if (i < live.length) messages.push(live[i]!);
    }
    for (const [which, where] of resends) {
      if (messages.length === 0) break;
      const at = where % (messages.length + 1);
      const earlier = messages.slice(0, Math.max(at, 1));
      messages.splice(at, 0, earlier[which % earlier.length]!);
    }
    return { readings, messages };
  });

describe.each([
  ["services", 150],
  ["embedded", 40],
] as const)("late readings are judged in their own time order (%s mode, %i histories)", (mode, runs) => {
  let ports: Ports;
  let devices: DeviceStore;
  let telemetry: TelemetryStore;
  let alarms: AlarmStore;
  let run = 0;

  beforeAll(async () => {
    ports = await openTestPorts(mode);
    devices = new DeviceStore(ports.db);
    telemetry = new TelemetryStore(ports.db);
    alarms = new AlarmStore(ports.db);
  });
  afterAll(async () => ports.close());

  /** A CH4 detector (25 / 50 %LEL, range 100) with these settings, and an engine that knows it. */
  async function deviceWithEngine(sn: string, options: Settings) {
    await devices.create({ sn, gas: "CH4", unit: "%LEL", k: 1, b: 0, t_comp: 0, t_ref: 25, ...options }, "x", { name: "test" });
    const [device] = await devices.calibrations([sn]);
    const clock = new FakeClock(T0 + 3_600_000);
    const engine = new AlarmEngine({
      alarms, channels: new ChannelStore(ports.db), bus: ports.bus, clock, deviceOf: (which) => (which === sn ? device : undefined),
      readingsAfter: (which, after) => telemetry.readingsAfter(which, after),
      newestKeys: (sns, limits) => telemetry.newestKeys(sns, limits),
      alarmHistory: (which) => devices.alarmHistory(which),
    });
    return engine;
  }

  function rowsOf(sn: string, readings: Reading[], indexes: number[]): TelemetryRow[] {
    return indexes.map((i) => ({ sn, ts: (T0 + i * STEP_S * 1000) / 1000, seq: i, ppm: readings[i]!.value, v_raw: readings[i]!.v_raw, err: readings[i]!.err, bat: readings[i]!.bat, flags: 0, calib_version: 1 }));
  }

  /** What a processor does with one committed message: store, then judge. */
  async function deliver(engine: AlarmEngine, rows: TelemetryRow[]) {
    await telemetry.insertBatch(rows);
    await engine.readings(rows);
  }

  const episodesOf = async (sn: string) =>
    ports.db.query<{ type: string; level: number; started_at: Date; ended_at: Date | null; late: boolean; alarm_id: number }>(
      `SELECT type, level::int AS level, started_at, ended_at, late, alarm_id::float8 AS alarm_id FROM alarm_episodes WHERE sn = $1 ORDER BY type, started_at`,
      [sn],
    );
  const shape = (rows: { type: string; level: number; started_at: Date; ended_at: Date | null }[]) =>
    rows.map((row) => `${row.type} L${row.level} ${new Date(row.started_at).getTime() - T0}..${row.ended_at === null ? "" : new Date(row.ended_at).getTime() - T0}`);

  it("stores the same episodes as in-order delivery, marks those found only late, and ends in the same live state", async () => {
    let withLate = 0;
    let lateEpisodes = 0;
    await fc.assert(
      fc.asyncProperty(settings, history, async (options, { readings, messages }) => {
        run++;
        const inOrder = `ORD-${run}`;
        const shuffled = `MIX-${run}`;
        const reference = await deviceWithEngine(inOrder, options);
        for (let i = 0; i < readings.length; i++) await deliver(reference, rowsOf(inOrder, readings, [i]));
        const engine = await deviceWithEngine(shuffled, options);
        const delivered = new Set<number>();
        const lateIndexes = new Set<number>();
        for (const message of messages) {
          const newest = Math.max(-1, ...delivered);
          for (const index of message) if (index < newest && !delivered.has(index)) lateIndexes.add(index);
          await deliver(engine, rowsOf(shuffled, readings, message));
          for (const index of message) delivered.add(index);
        }

        const expected = await episodesOf(inOrder);
        const got = await episodesOf(shuffled);
        if (lateIndexes.size > 0) withLate++;
        lateEpisodes += got.filter((episode) => episode.late).length;
        expect(shape(got)).toEqual(shape(expected));
        expect(expected.filter((episode) => episode.late)).toEqual([]);
        for (const episode of got) {
          const from = (new Date(episode.started_at).getTime() - T0) / 1000 / STEP_S;
          const to = episode.ended_at === null ? readings.length : (new Date(episode.ended_at).getTime() - T0) / 1000 / STEP_S;
          // Nothing up to its end was judged in time: it was found in late readings only, and is marked late.
          if (Array.from({ length: to }, (_, k) => k).every((index) => lateIndexes.has(index))) expect(episode.late).toBe(true);
          // Marked late: a late reading came at or before its end.
          if (episode.late) expect([...lateIndexes].some((index) => index <= to)).toBe(true);
        }
        // One alarm per episode, and no two alarms of a type holding at once.
        for (const type of new Set(got.map((episode) => episode.type))) {
          const ofType = got.filter((episode) => episode.type === type);
          for (let i = 1; i < ofType.length; i++) expect(new Date(ofType[i]!.started_at).getTime()).toBeGreaterThanOrEqual(new Date(ofType[i - 1]!.ended_at!).getTime());
        }
        expect(engine.statusOf(shuffled)).toBe(reference.statusOf(inOrder));
        // Alarm levels never go down, so only which conditions hold is compared (their levels are in the episodes).
        const live = (e: AlarmEngine, sn: string) => e.openAlarms(sn).filter((alarm) => alarm.conditionActive).map((alarm) => alarm.type).sort();
        expect(live(engine, shuffled)).toEqual(live(reference, inOrder));
      }),
      { numRuns: runs },
    );
    // The generator must keep producing what the property is about.
    expect(withLate).toBeGreaterThan(runs / 5);
    expect(lateEpisodes).toBeGreaterThan(runs / 5);
  }, 300_000);
});
