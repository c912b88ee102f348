import { describe, expect, it } from "vitest";
import { ArchiveAnalysisBuilder, compareWithActual, looserSettings, replayArchive, replayDevice, stricterSettings, withOverrides, type ArchiveAlarm } from "../../src/analysis/index.ts";
import { CH4, DAY, INTERVAL, reading, series, wobble } from "./support.ts";

/** Clean air with plumes: `peaks` as [start sample, samples, value]. */
function withPlumes(peaks: [number, number, number][], samples = 2000): number[] {
  return Array.from({ length: samples }, (_, i) => {
    const plume = peaks.find(([start, length]) => i >= start && i < start + length);
    return plume ? plume[2] : 1 + wobble(i, 0.1);
  });
}

/** Issue 13, part 4: the day replayed through the product's own alarm engine with other settings. */
describe("what-if replay", () => {
  it("raises one alarm per leak, at the level the leak reached, with its times", () => {
    const s = series(withPlumes([[100, 10, 30], [500, 5, 60]]));
    const alarms = replayDevice(s, CH4);
    expect(alarms.map(({ type, level, raisedAt, clearedAt, peak }) => ({ type, level, raisedAt, clearedAt, peak }))).toEqual([
      { type: "HIGH", level: 1, raisedAt: DAY + 100 * INTERVAL, clearedAt: DAY + 110 * INTERVAL, peak: 30 },
      { type: "HIGH", level: 2, raisedAt: DAY + 500 * INTERVAL, clearedAt: DAY + 505 * INTERVAL, peak: 60 },
    ]);
  });

  it("counts each episode of a chattering value once per crossing, and a deadband merges them", () => {
    // 24 ↔ 26 %LEL around the 25 %LEL limit, ten times.
    const values = withPlumes(Array.from({ length: 10 }, (_, k): [number, number, number] => [100 + k * 2, 1, 26]).concat(Array.from({ length: 10 }, (_, k): [number, number, number] => [101 + k * 2, 1, 24])));
    const noDeadband = replayDevice(series(values), { ...CH4, deadband: 0 });
    const withDeadband = replayDevice(series(values), { ...CH4, deadband: 2 });
    expect(noDeadband).toHaveLength(10);
    expect(withDeadband).toHaveLength(1);
  });

  it("lets an on-delay swallow a spike shorter than it, and a higher limit a leak below it", () => {
    const s = series(withPlumes([[100, 2, 30]]));
    expect(replayDevice(s, { ...CH4, onDelaySamples: 1 })).toHaveLength(1);
    expect(replayDevice(s, { ...CH4, onDelaySamples: 3 })).toHaveLength(0);
    expect(replayDevice(s, { ...CH4, high1: 35, high2: 70 })).toHaveLength(0);
  });

  it("raises the faults the engine raises: a flat line (stuck), error bits, a low battery", () => {
    const values = Array.from({ length: 200 }, (_, i) => (i >= 100 ? 1.5 : 1 + wobble(i, 0.1)));
    const stuck = replayDevice(series(values), CH4);
    expect(stuck.map(({ type, raisedAt }) => ({ type, raisedAt }))).toEqual([{ type: "FAULT", raisedAt: DAY + 129 * INTERVAL }]);
    const battery = replayDevice(series(withPlumes([], 100), (i) => ({ bat: i < 50 ? 3.8 : 3.4 })), CH4);
    expect(battery.map(({ type, raisedAt, clearedAt }) => ({ type, raisedAt, clearedAt }))).toEqual([{ type: "LOW_BATTERY", raisedAt: DAY + 50 * INTERVAL, clearedAt: null }]);
  });

  it("compares with what was really raised, by type and level and per device", () => {
    const a = series(withPlumes([[100, 10, 30]]), () => ({}), "A001");
    const b = series(withPlumes([[300, 10, 60]]), () => ({}), "B002");
    const result = replayArchive([a, b], () => CH4);
    const actual: ArchiveAlarm[] = [
      { id: 1, sn: "A001", type: "HIGH", level: 1, state: "closed", value: 30, peak: 30, raisedAt: DAY + 100 * INTERVAL, clearedAt: null, closedAt: null, ackedAt: null, reason: "", late: false },
      { id: 2, sn: "A001", type: "OFFLINE", level: 1, state: "closed", value: null, peak: null, raisedAt: DAY, clearedAt: null, closedAt: null, ackedAt: null, reason: "", late: false },
      { id: 3, sn: "Z999", type: "HIGH", level: 2, state: "closed", value: 90, peak: 90, raisedAt: DAY, clearedAt: null, closedAt: null, ackedAt: null, reason: "", late: false },
    ];
    const comparison = compareWithActual(result, actual, ["A001", "B002"]);
    expect(comparison.rows).toEqual([
      { type: "HIGH", level: 1, replayed: 1, actual: 1 },
      { type: "HIGH", level: 2, replayed: 1, actual: 0 },
      { type: "OFFLINE", level: 1, replayed: 0, actual: 1 },
    ]);
    expect({ replayed: comparison.replayedTotal, actual: comparison.actualTotal }).toEqual({ replayed: 2, actual: 2 });
    expect(comparison.devices).toEqual([{ sn: "A001", replayed: 1, actual: 2 }, { sn: "B002", replayed: 1, actual: 0 }]);
  });

  it("applies overrides per gas, a device's own winning, and derives a stricter and a looser setting", () => {
    const settingsOf = withOverrides(() => CH4, (sn) => (sn === "X" ? "H2S" : "CH4"), [
      { scope: { kind: "gas", gas: "CH4" }, settings: { high1: 20, deadband: undefined } },
      { scope: { kind: "device", sn: "A001" }, settings: { high1: 30 } },
    ]);
    expect(settingsOf("A001")).toMatchObject({ high1: 30, high2: 50, deadband: 2 });
    expect(settingsOf("B002")).toMatchObject({ high1: 20, high2: 50 });
    expect(settingsOf("X")).toMatchObject({ high1: 25 });
    expect(stricterSettings(CH4)).toMatchObject({ high1: 20, high2: 40, deadband: 1, onDelaySamples: 1 });
    expect(looserSettings({ ...CH4, low1: 19.5 })).toMatchObject({ high1: 30, high2: 60, low1: 19.11, deadband: 3, onDelaySamples: 3 });
  });
});

describe("the archive analysis (files in, every view's data out)", () => {
  it("replays at the archived settings, a stricter and a looser one; stricter never raises fewer", () => {
    const builder = new ArchiveAnalysisBuilder();
    builder.addManifest({ day: "2025-12-13", rows: 4000, devices: [{ sn: "A001", name: "罐区 1", gas: "CH4", unit: "%LEL", rows: 2000, settings: CH4 }, { sn: "B002", name: null, gas: "CH4", unit: "%LEL", rows: 2000, settings: CH4 }] });
    const plumes = withPlumes([[100, 10, 22], [400, 10, 28], [800, 10, 33]]);
    builder.addReadings(plumes.map((v, i) => reading("A001", DAY + i * INTERVAL, v, { seq: i })));
    builder.addReadings(plumes.map((v, i) => reading("B002", DAY + i * INTERVAL + 5, v, { seq: i })));
    builder.addAlarms([]);
    const analysis = builder.build();
    const { current, stricter, looser } = analysis.whatIfVariants();
    // 22 < 25 < 28 < 33 (current: 2 a device); stricter 20: all 3; looser 30: 1.
    expect([current.result.total, stricter.result.total, looser.result.total]).toEqual([4, 6, 2]);
    expect(current.comparison).toMatchObject({ replayedTotal: 4, actualTotal: 0 });
    expect(analysis.summary).toMatchObject({ days: ["2025-12-13"], readings: 4000, actualAlarms: 0 });
    expect(analysis.summary.heatMap.source).toBe("alarms");
    expect(analysis.whatIf([{ scope: { kind: "device", sn: "A001" }, settings: { high1: 21 } }], ["A001"]).result.total).toBe(3);
    // 24 buckets of an hour: one plume in each of the first three.
    expect(analysis.trend("A001", 24)?.buckets.max.slice(0, 3)).toEqual([22, 28, 33]);
  });
});
