import { describe, expect, it } from "vitest";
import { FLAG_BITS, countErrorBits, findFlatLines, findGaps, medianInterval, sensorHealth, slopePerDay, type HealthReason } from "../../src/analysis/index.ts";
import { CH4, DAY, INTERVAL, series, wobble } from "./support.ts";

const WINDOW = { from: DAY, to: DAY + 86_400_000 };
const SAMPLES = 8640;
/** A healthy CH4 detector: about 1 %LEL with a little noise, raw volts following it. */
const clean = (i: number) => 1 + wobble(i, 0.15);
const codes = (reasons: HealthReason[]) => reasons.map((reason) => reason.code);

describe("sensor health (DOMAIN.md, sensor health)", () => {
  it("finds nothing wrong with a healthy detector", () => {
    const health = sensorHealth(series(Array.from({ length: SAMPLES }, (_, i) => clean(i))), CH4, { window: WINDOW });
    expect({ verdict: health.verdict, reasons: health.reasons, interval: health.intervalMs, completeness: health.completeness }).toEqual({ verdict: "ok", reasons: [], interval: INTERVAL, completeness: 1 });
  });

  it("infers the report interval from the median gap, despite jitter and a long silence", () => {
    const at = Array.from({ length: 1000 }, (_, i) => DAY + i * INTERVAL + (i % 2) * 100 + (i >= 500 ? 3_600_000 : 0));
    // 10.1 s and 9.9 s alternating: about 10 s, whichever the median lands on.
    expect(Math.abs(medianInterval(at)! - INTERVAL)).toBeLessThanOrEqual(100);
    const gaps = findGaps(at, INTERVAL, { from: DAY, to: DAY + 86_400_000 });
    expect(gaps[0]).toEqual({ from: at[999], to: DAY + 86_400_000 });
    expect(gaps[1]).toEqual({ from: at[499], to: at[500] });
  });

  it("reports a three-hour gap with the completeness it costs", () => {
    const kept = Array.from({ length: SAMPLES }, (_, i) => i).filter((i) => i < 3600 || i >= 4680);
    const s = series(kept.map(clean));
    const health = sensorHealth({ ...s, at: Float64Array.from(kept, (i) => DAY + i * INTERVAL) }, CH4, { window: WINDOW });
    expect(health.completeness).toBeCloseTo(7560 / 8640, 6);
    expect(health.gaps[0]).toEqual({ from: DAY + 3599 * INTERVAL, to: DAY + 4680 * INTERVAL });
    expect(codes(health.reasons)).toEqual(["incomplete", "gap"]);
    expect(health.verdict).toBe("attention");
  });

  it("calls a flat line (identical v_raw) bad, naming where it starts", () => {
    const values = Array.from({ length: SAMPLES }, (_, i) => (i >= 2000 ? 1.2 : clean(i)));
    const health = sensorHealth(series(values), CH4, { window: WINDOW });
    expect(health.flatLine).toMatchObject({ from: DAY + 2000 * INTERVAL, samples: SAMPLES - 2000 });
    expect(health.verdict).toBe("bad");
    expect(codes(health.reasons)).toContain("flat_line");
    expect(findFlatLines([1, 2, 3, 4], [5, 5, 6, 6], 3)).toEqual([]);
  });

  it("calls a zero drifting negative bad: readings stored as 0 with the negative flag", () => {
    const values = Array.from({ length: SAMPLES }, (_, i) => 1 - (3 * i) / SAMPLES + wobble(i, 0.15));
    const health = sensorHealth(series(values.map((v) => Math.max(0, v)), (i) => ({ flags: values[i]! < 0 ? FLAG_BITS.negative : 0 })), CH4, { window: WINDOW });
    expect(health.zeroDrift.negativeShare).toBeGreaterThan(0.5);
    expect(health.verdict).toBe("bad");
    expect(codes(health.reasons)).toContain("negative_drift");
  });

  it("does not call negative readings of a noisy sensor, whose baseline stays up, a drift", () => {
    const values = Array.from({ length: SAMPLES }, (_, i) => 1 + wobble(i, 2));
    const health = sensorHealth(series(values.map((v) => Math.max(0, v)), (i) => ({ flags: values[i]! < 0 ? FLAG_BITS.negative : 0 })), CH4, { window: WINDOW });
    expect(health.zeroDrift.negativeShare).toBeGreaterThan(0.1);
    expect(codes(health.reasons)).toEqual(["noisy"]);
  });

  it("sees a baseline below 0 where values are stored unclamped", () => {
    const values = Array.from({ length: SAMPLES }, (_, i) => -2 + wobble(i, 0.1));
    expect(sensorHealth(series(values), CH4, { window: WINDOW }).zeroDrift).toMatchObject({ negativeSamples: 0, drifting: true });
  });

  it("flags a noisy sensor by the spread of its first differences at baseline, not by a leak", () => {
    const noisy = sensorHealth(series(Array.from({ length: SAMPLES }, (_, i) => 3 + wobble(i, 1.5))), CH4, { window: WINDOW });
    expect(noisy.noise).toBeGreaterThan(1);
    expect(codes(noisy.reasons)).toEqual(["noisy"]);
    // A clean detector with a leak: the plume is signal, not noise.
    const leak = sensorHealth(series(Array.from({ length: SAMPLES }, (_, i) => clean(i) + (i > 3000 && i < 3100 ? 40 : 0))), CH4, { window: WINDOW });
    expect(leak.noise).toBeLessThan(0.5);
    expect(leak.verdict).toBe("ok");
  });

  it("gives battery and RSSI trends per day and warns of a battery running down", () => {
    const s = series(Array.from({ length: SAMPLES }, (_, i) => clean(i)), (i) => ({ bat: 3.95 - (0.6 * i) / SAMPLES, rssi: -70 - (12 * i) / SAMPLES }));
    const health = sensorHealth(s, CH4, { window: WINDOW });
    expect(health.battery.slopePerDay).toBeCloseTo(-0.6, 2);
    expect(health.rssi.slopePerDay).toBeCloseTo(-12, 1);
    expect(codes(health.reasons)).toEqual(["battery_falling", "battery_low", "rssi_falling"]);
    expect(slopePerDay([0, 1000], [Number.NaN, 1])).toBeNull();
  });

  it("counts readings per error bit, and calls a frequent sensor fault bad", () => {
    expect(countErrorBits([0, 0x01, 0x11, 0x10, 0x40])).toEqual([
      { bit: 0x01, name: "sensor fault", count: 2 },
      { bit: 0x10, name: "temperature out of spec", count: 2 },
      { bit: 0x40, name: "unknown", count: 1 },
    ]);
    const s = series(Array.from({ length: SAMPLES }, (_, i) => clean(i)), (i) => ({ err: i % 50 === 0 ? 0x01 : i % 70 === 0 ? 0x10 : 0 }));
    const health = sensorHealth(s, CH4, { window: WINDOW });
    expect(health.verdict).toBe("bad");
    expect(health.reasons).toEqual([{ code: "sensor_fault", count: 173 }, { code: "error_bits", bits: [0x10], count: 99 }]);
  });
});
