import { describe, expect, it } from "vitest";
import { downsampleTrend, heatMapFromAlarms, heatMapFromReadings, plantHour, type ArchiveAlarm } from "../../src/analysis/index.ts";
import { CH4, DAY, INTERVAL, series } from "./support.ts";

describe("trend downsampling (a day of 8640 points draws as a few hundred buckets)", () => {
  it("keeps each bucket's min, max and mean, so a one-sample spike still shows", () => {
    const values = Array.from({ length: 8640 }, (_, i) => (i === 4000 ? 80 : 1));
    const s = series(values);
    const trend = downsampleTrend(s.at, s.value, DAY, DAY + 86_400_000, 288);
    expect(trend.bucketMs).toBe(300_000);
    expect(trend.avg).toHaveLength(288);
    const spikeBucket = Math.floor((4000 * INTERVAL) / 300_000);
    expect(trend.max[spikeBucket]).toBe(80);
    expect(trend.min[spikeBucket]).toBe(1);
    expect(trend.avg[spikeBucket]).toBeCloseTo((29 + 80) / 30, 4);
    expect(Math.max(...trend.max.map((v) => v ?? 0))).toBe(80);
    expect(trend.avg.filter((v, b) => b !== spikeBucket && v !== 1)).toEqual([]);
  });

  it("leaves buckets without readings empty, so the line breaks at a gap", () => {
    const values = Array.from({ length: 8640 }, () => 2);
    const s = series(values.filter((_, i) => i < 3600 || i >= 4680));
    const shifted = { ...s, at: Float64Array.from(s.at, (t, i) => (i < 3600 ? t : t + 1080 * INTERVAL)) };
    const trend = downsampleTrend(shifted.at, shifted.value, DAY, DAY + 86_400_000, 288);
    expect(trend.avg.slice(120, 156).every((v) => v === null)).toBe(true);
    expect(trend.avg[119]).toBe(2);
    expect(trend.avg[156]).toBe(2);
  });
});

describe("alarm heat map (device × hour of the plant's day, Asia/Shanghai)", () => {
  it("counts hours in plant time, UTC+8", () => {
    expect(plantHour(Date.parse("2025-12-13T00:30:00Z"))).toBe(8);
    expect(plantHour(Date.parse("2025-12-13T16:00:00Z"))).toBe(0);
    expect(plantHour(Date.parse("2025-12-13T15:59:59Z"))).toBe(23);
  });

  it("counts hours in the plant's zone when it is set: daylight saving included; an unknown zone counts as Asia/Shanghai", () => {
    // Berlin: UTC+1 in winter, UTC+2 in summer (the clocks went forward at 01:00 UTC on 2025-03-30).
    expect(plantHour(Date.parse("2025-03-30T00:59:59Z"), "Europe/Berlin")).toBe(1);
    expect(plantHour(Date.parse("2025-03-30T01:00:00Z"), "Europe/Berlin")).toBe(3);
    // Half-hour offsets (India, UTC+5:30).
    expect(plantHour(Date.parse("2025-12-13T00:29:00Z"), "Asia/Kolkata")).toBe(5);
    expect(plantHour(Date.parse("2025-12-13T00:30:00Z"), "Asia/Kolkata")).toBe(6);
    expect(plantHour(Date.parse("2025-12-13T00:30:00Z"), "Mars/Olympus")).toBe(8);
  });

  it("says which zone its hours are in, and moves the counts with it", () => {
    const alarm = (iso: string): ArchiveAlarm => ({
      id: 1, sn: "A001", type: "HIGH", level: 1, state: "closed", value: 30, peak: 30, raisedAt: Date.parse(iso), clearedAt: null, closedAt: null, ackedAt: null, reason: "", late: false,
    });
    expect(heatMapFromAlarms(["A001"], [alarm("2025-12-13T01:10:00Z")]).timeZone).toBe("Asia/Shanghai");
    const jakarta = heatMapFromAlarms(["A001"], [alarm("2025-12-13T01:10:00Z")], "Asia/Jakarta");
    expect(jakarta.timeZone).toBe("Asia/Jakarta");
    expect(jakarta.counts[0]![8]).toBe(1);
  });

  it("counts each alarm of the alarms file once, in the hour it was raised", () => {
    const alarm = (sn: string, iso: string): ArchiveAlarm => ({
      id: 1, sn, type: "HIGH", level: 1, state: "closed", value: 30, peak: 30, raisedAt: Date.parse(iso), clearedAt: null, closedAt: null, ackedAt: null, reason: "", late: false,
    });
    const map = heatMapFromAlarms(["A001", "B002"], [alarm("A001", "2025-12-13T01:10:00Z"), alarm("A001", "2025-12-13T01:50:00Z"), alarm("B002", "2025-12-13T20:00:00Z"), alarm("C003", "2025-12-13T02:00:00Z")]);
    expect(map.devices).toEqual(["A001", "B002", "C003"]);
    expect(map.counts[0]![9]).toBe(2);
    expect(map.counts[1]![4]).toBe(1);
    expect(map.counts[2]![10]).toBe(1);
    expect({ source: map.source, total: map.total, max: map.max }).toEqual({ source: "alarms", total: 4, max: 2 });
  });

  it("without an alarms file, counts the readings beyond the device's level-1 limit", () => {
    // Three readings above 25 %LEL from 02:00 UTC (10:00 plant time).
    const s = series(Array.from({ length: 8640 }, (_, i) => (i >= 720 && i < 723 ? 30 : 1)));
    const map = heatMapFromReadings([s], () => CH4);
    expect(map.counts[0]![10]).toBe(3);
    expect(map.total).toBe(3);
    expect(heatMapFromReadings([s], () => null).total).toBe(0);
  });
});
