import { describe, expect, it } from "vitest";
import { calibrate } from "@mcs/core";
import { ReadingSchema } from "@mcs/protocol";
import { ERR, GAS_NAMES, GAS_PROFILES, Signal, crossesLevel1, type GasName, type SignalSample } from "../src/index.ts";

const START = Date.UTC(2025, 5, 1) / 1000; // 2025-06-01T00:00:00Z
const DAY = 86_400;

/** Samples every `stepS` seconds for `durationS`. */
function run(signal: Signal, durationS: number, stepS = 10, from = START): { ts: number; s: SignalSample }[] {
  const out: { ts: number; s: SignalSample }[] = [];
  for (let ts = from; ts < from + durationS; ts += stepS) out.push({ ts, s: signal.sample(ts) });
  return out;
}

describe("the signal is deterministic per seed", () => {
  it.each(GAS_NAMES)("%s: the same seed gives the same readings, another seed other readings", (gas) => {
    const options = { gas, leakRatePerHour: 0.5, faultRatePerHour: 0.2 };
    const a = run(new Signal({ seed: 7, ...options }), DAY);
    const b = run(new Signal({ seed: 7, ...options }), DAY);
    const c = run(new Signal({ seed: 8, ...options }), DAY);
    expect(b).toEqual(a);
    expect(c.map((x) => x.s.v_raw)).not.toEqual(a.map((x) => x.s.v_raw));
  });
});

describe("in clean air each gas reads inside its range and below its alarm presets", () => {
  it.each(GAS_NAMES)("%s over a simulated week, for 20 devices", (gas) => {
    const p = GAS_PROFILES[gas];
    const seen = { v: range(), temp: range(), humi: range(), bat: range(), rssi: range(), err: 0, invalid: 0 };
    for (let seed = 1; seed <= 20; seed++) {
      for (const { ts, s } of run(new Signal({ seed, gas }), 7 * DAY, 60)) {
        widen(seen.v, s.v_raw);
        widen(seen.temp, s.temp);
        widen(seen.humi, s.humi);
        widen(seen.bat, s.bat);
        widen(seen.rssi, s.rssi);
        seen.err |= s.err;
        if (ts % 3600 === 0 && !ReadingSchema.safeParse({ ts, seq: 1, ...s }).success) seen.invalid++;
      }
    }
    expect(seen.invalid).toBe(0);
    expect(seen.err).toBe(0);
    expect(seen.v.min).toBeGreaterThanOrEqual(0);
    if (gas === "O2") {
      expect(seen.v.min).toBeGreaterThan(p.level1);
      expect(seen.v.max).toBeLessThan(p.level2);
    } else {
      expect(seen.v.max).toBeLessThan(p.level1);
    }
    expect(seen.temp.min).toBeGreaterThan(-20);
    expect(seen.temp.max).toBeLessThan(55);
    expect(seen.humi.min).toBeGreaterThanOrEqual(5);
    expect(seen.humi.max).toBeLessThanOrEqual(99);
    expect(seen.bat.min).toBeGreaterThan(3.45);
    expect(seen.bat.max).toBeLessThanOrEqual(4.25);
    expect(seen.rssi.min).toBeGreaterThanOrEqual(-120);
    expect(seen.rssi.max).toBeLessThanOrEqual(-40);
  });

  it("wanders: noise and a slowly drifting zero, not a flat line", () => {
    const values = run(new Signal({ seed: 3, gas: "CO" }), DAY).map((x) => x.s.v_raw);
    expect(new Set(values).size).toBeGreaterThan(20);
    const hourly = Array.from({ length: 24 }, (_, h) => mean(values.slice(h * 360, (h + 1) * 360)));
    expect(Math.max(...hourly) - Math.min(...hourly)).toBeGreaterThan(GAS_PROFILES.CO.noise / 2);
  });
});

describe("v_raw maps to the gas value", () => {
  it("reads as the gas value with the factory calibration k = 1, b = 0, t_comp = 0", () => {
    const signal = new Signal({ seed: 11, gas: "CH4" });
    signal.startLeak({ peak: 40, riseS: 30, plumeS: 600, decayS: 60 }, START);
    const samples = run(signal, 400, 10, START);
    for (const { s } of samples.slice(20)) {
      const { ppm } = calibrate({ k: 1, b: 0, t_comp: 0, t_ref: 20 }, s.v_raw, s.temp);
      expect(Math.abs(ppm - s.truth)).toBeLessThan(6 * GAS_PROFILES.CH4.noise);
    }
  });

  it("a sensor with gain 2, zero 1 and 0.1/°C is read back exactly by k = 1/2, b = −1/2, t_comp = −0.05, t_ref = 20", () => {
    const plain = run(new Signal({ seed: 5, gas: "NH3" }), DAY, 60);
    const skewed = run(new Signal({ seed: 5, gas: "NH3", sensor: { gain: 2, zero: 1, tempCoeff: 0.1 } }), DAY, 60);
    skewed.forEach(({ s }, i) => {
      const { ppm } = calibrate({ k: 0.5, b: -0.5, t_comp: -0.05, t_ref: 20 }, s.v_raw, s.temp);
      // Both readings are rounded to the gas's 0.1 ppm: they agree within two roundings.
      expect(Math.abs(ppm - plain[i]!.s.v_raw)).toBeLessThanOrEqual(0.08);
    });
  });
});

describe("leaks rise, hold as a plume, decay, and cross the alarm presets", () => {
  it.each(GAS_NAMES)("%s: a leak crosses the level-1 preset and decays back below it", (gas) => {
    const p = GAS_PROFILES[gas];
    for (let seed = 1; seed <= 10; seed++) {
      const signal = new Signal({ seed, gas });
      run(signal, 600); // settle
      const from = START + 600;
      signal.startLeak({}, from);
      const phases = new Set<string>();
      const values: number[] = [];
      let ts = from;
      while (signal.leak || ts === from) {
        ts += 10;
        values.push(signal.sample(ts).v_raw);
        if (signal.leak) phases.add(signal.leak.phase);
        expect(ts - from).toBeLessThan(3 * 3600);
      }
      expect([...phases]).toEqual(["rise", "plume", "decay"]);
      expect(values.some((v) => crossesLevel1(p, v))).toBe(true);
      expect(crossesLevel1(p, values.at(-1)!)).toBe(false);
    }
  });

  it("some leaks cross level 2 as well", () => {
    const peaks = Array.from({ length: 30 }, (_, seed) => {
      const signal = new Signal({ seed, gas: "H2S" });
      signal.startLeak({}, START);
      return Math.max(...run(signal, 3600, 10, START + 10).map((x) => x.s.v_raw));
    });
    expect(peaks.some((peak) => peak >= GAS_PROFILES.H2S.level2)).toBe(true);
    expect(peaks.some((peak) => peak < GAS_PROFILES.H2S.level2)).toBe(true);
  });

  it("leaks come by themselves at the leak rate (about 1 an hour over 100 hours)", () => {
    const signal = new Signal({ seed: 9, gas: "CO", leakRatePerHour: 1 });
    let leaks = 0;
    let inLeak = false;
    for (let ts = START; ts < START + 100 * 3600; ts += 10) {
      signal.sample(ts);
      if (signal.leak && !inLeak) leaks++;
      inLeak = signal.leak !== undefined;
    }
    expect(leaks).toBeGreaterThan(40); // a leak lasts ~10–20 min, so fewer than 100 start
    expect(leaks).toBeLessThan(130);
  });
});

describe("sensor faults", () => {
  const faulty = (gas: GasName) => {
    const signal = new Signal({ seed: 21, gas });
    run(signal, 600);
    return signal;
  };

  it("over-range: v_raw pinned above full scale with the OVER_RANGE bit", () => {
    const signal = faulty("CO");
    signal.startFault("over_range", 600, START + 600);
    const s = signal.sample(START + 610);
    expect(s.v_raw).toBeGreaterThan(GAS_PROFILES.CO.rangeMax);
    expect(s.err & ERR.OVER_RANGE).toBe(ERR.OVER_RANGE);
  });

  it("a leak beyond full scale reads over range too", () => {
    const signal = new Signal({ seed: 2, gas: "H2S" });
    signal.startLeak({ peak: 150, riseS: 10, plumeS: 600 }, START);
    const s = run(signal, 300, 10, START + 10).at(-1)!.s;
    expect(s.v_raw).toBe(110);
    expect(s.err).toBe(ERR.OVER_RANGE);
  });

  it("stuck: the same v_raw while the gas changes, and no error bit (a flat line the server must notice)", () => {
    const signal = faulty("CH4");
    signal.startFault("stuck", 3600, START + 600);
    signal.startLeak({ peak: 60 }, START + 600);
    const samples = run(signal, 1800, 10, START + 610);
    expect(new Set(samples.map((x) => x.s.v_raw)).size).toBe(1);
    expect(Math.max(...samples.map((x) => x.s.truth))).toBeGreaterThan(25);
    expect(samples.every((x) => x.s.err === 0)).toBe(true);
  });

  it("sensor failure: v_raw 0 with the SENSOR_FAULT bit, until the fault ends", () => {
    const signal = faulty("NH3");
    signal.startFault("sensor_fail", 300, START + 600);
    const during = run(signal, 290, 10, START + 610);
    expect(during.every((x) => x.s.v_raw === 0 && (x.s.err & ERR.SENSOR_FAULT) !== 0)).toBe(true);
    expect(signal.sample(START + 1000).err).toBe(0);
  });

  it("zero drift: a poisoned sensor sinks below zero and flags UNDER_RANGE", () => {
    const signal = faulty("CH4");
    signal.startFault("zero_drift", 4 * 3600, START + 600);
    const last = run(signal, 2 * 3600, 10, START + 610).at(-1)!.s;
    expect(last.v_raw).toBeLessThan(-5);
    expect(last.err & ERR.UNDER_RANGE).toBe(ERR.UNDER_RANGE);
  });
});

describe("environment, battery and radio", () => {
  it("temperature follows the day (warmer mid-afternoon than before dawn, local time UTC+8) and humidity the opposite", () => {
    const samples = run(new Signal({ seed: 4, gas: "CO" }), 10 * DAY, 600);
    const at = (localHour: number) => samples.filter((x) => Math.floor(((x.ts + 8 * 3600) % DAY) / 3600) === localHour);
    expect(mean(at(14).map((x) => x.s.temp))).toBeGreaterThan(mean(at(3).map((x) => x.s.temp)) + 3);
    expect(mean(at(14).map((x) => x.s.humi))).toBeLessThan(mean(at(3).map((x) => x.s.humi)) - 5);
  });

  it("the battery drains and flags LOW_BATTERY near empty", () => {
    const samples = run(new Signal({ seed: 6, gas: "CO", battery: { startSoc: 1, daysToEmpty: 10 } }), 10 * DAY, 3600);
    const volts = samples.map((x) => x.s.bat);
    expect(volts[0]).toBeGreaterThan(4.1);
    expect(volts.at(-1)).toBeLessThan(3.4);
    expect(mean(volts.slice(0, 24))).toBeGreaterThan(mean(volts.slice(-24)));
    expect(samples.at(-1)!.s.err & ERR.LOW_BATTERY).toBe(ERR.LOW_BATTERY);
  });

  it("a battery set low flags LOW_BATTERY from the next sample, and a fresh one clears it", () => {
    const signal = new Signal({ seed: 6, gas: "H2S", battery: { startSoc: 0.9 } });
    expect(signal.sample(1_000).err & ERR.LOW_BATTERY).toBe(0);
    signal.setBatteryCharge(0.1);
    const low = signal.sample(1_010);
    expect(low.bat).toBeLessThan(3.45);
    expect(low.err & ERR.LOW_BATTERY).toBe(ERR.LOW_BATTERY);
    signal.setBatteryCharge(2); // clamped to full
    expect(signal.batteryCharge).toBe(1);
    const fresh = signal.sample(1_020);
    expect(fresh.bat).toBeGreaterThan(4.1);
    expect(fresh.err & ERR.LOW_BATTERY).toBe(0);
  });

  it("RSSI wanders around the device's own level, with fades", () => {
    const rssi = run(new Signal({ seed: 8, gas: "CO" }), DAY, 10).map((x) => x.s.rssi);
    expect(Math.max(...rssi) - Math.min(...rssi)).toBeGreaterThan(10);
    const levels = [1, 2, 3, 4, 5].map((seed) => mean(run(new Signal({ seed, gas: "CO" }), 3600, 60).map((x) => x.s.rssi)));
    expect(Math.max(...levels) - Math.min(...levels)).toBeGreaterThan(5);
  });
});

function range() {
  return { min: Infinity, max: -Infinity };
}

function widen(r: { min: number; max: number }, value: number): void {
  if (value < r.min) r.min = value;
  if (value > r.max) r.max = value;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
