import { describe, expect, it } from "vitest";
import { DEFAULT_ALARM_SETTINGS, GAS_PRESETS, evaluateReading, emptyMemory, presetFor } from "../../src/alarms/index.ts";
import { reading } from "./support.ts";

// DOMAIN.md's table: unit, range, level 1, level 2.
const TABLE: [string, string, number, number, number][] = [
  ["CH4", "%LEL", 100, 25, 50],
  ["H2S", "ppm", 100, 7, 14],
  ["CO", "ppm", 1000, 17, 34],
  ["NH3", "ppm", 100, 28, 56],
  ["Cl2", "ppm", 10, 0.34, 0.68],
  ["SO2", "ppm", 20, 1.9, 3.8],
  ["NO2", "ppm", 20, 2.6, 5.2],
  ["HCN", "ppm", 30, 0.9, 1.8],
];
const MOLAR_MASS: Record<string, number> = { H2S: 34.08, CO: 28.01, NH3: 17.03, Cl2: 70.9, SO2: 64.07, NO2: 46.01, HCN: 27.03 };

describe("gas presets (GB/T 50493-2019, DOMAIN.md)", () => {
  it("covers the nine gases of the product", () => {
    expect(Object.keys(GAS_PRESETS).sort()).toEqual(["CH4", "CO", "Cl2", "H2S", "HCN", "NH3", "NO2", "O2", "SO2"].sort());
  });

  it.each(TABLE)("%s: %s, range 0–%d, level 1 %d / level 2 %d, no LOW", (gas, unit, rangeMax, high1, high2) => {
    expect(GAS_PRESETS[gas]).toMatchObject({ gas, unit, rangeMax, high1, high2, low1: null, low2: null });
  });

  it("gives oxygen a low alarm at 19.5 and a high alarm at 23.5 %VOL, range 0–25, no level 2", () => {
    expect(GAS_PRESETS.O2).toMatchObject({ unit: "%VOL", rangeMax: 25, low1: 19.5, high1: 23.5, low2: null, high2: null });
  });

  it("sets level 2 at twice level 1 for toxic gases (200 % of the OEL)", () => {
    for (const [gas, unit, , high1, high2] of TABLE) if (unit === "ppm") expect(high2, gas).toBeCloseTo(2 * high1, 6);
  });

  it("records a basis whose mg/m³ limit converts to the ppm setpoint (× 24.04 / molar mass, within rounding)", () => {
    for (const [gas, mass] of Object.entries(MOLAR_MASS)) {
      const preset = GAS_PRESETS[gas];
      const mg = Number(/ (\d+(?:\.\d+)?) mg\/m³/.exec(preset?.basis ?? "")?.[1]);
      expect(preset?.basis, gas).toMatch(/^GBZ 2\.1 (MAC|PC-TWA) /);
      expect(Math.abs((mg * 24.04) / mass - (preset?.high1 ?? 0)), gas).toBeLessThan(0.06 * (preset?.high1 ?? 0));
    }
    expect(GAS_PRESETS.CH4?.basis).toBe("GB/T 50493-2019: 25 / 50 %LEL");
  });

  it("uses a deadband of 2 % of full scale, capped at half the level-1 limit so every alarm can clear", () => {
    expect(GAS_PRESETS.CH4?.deadband).toBe(2);
    expect(GAS_PRESETS.O2?.deadband).toBe(0.5);
    expect(GAS_PRESETS.H2S?.deadband).toBe(2);
    expect(GAS_PRESETS.CO?.deadband).toBe(8.5); // 2 % would be 20 ppm, above the 17 ppm limit
    for (const preset of Object.values(GAS_PRESETS)) {
      expect(preset.deadband, preset.gas).toBeLessThanOrEqual(preset.rangeMax * 0.02);
      expect((preset.high1 ?? Infinity) - preset.deadband, preset.gas).toBeGreaterThan(0);
    }
  });

  it("finds a preset by name in any case", () => {
    expect(presetFor("h2s")).toBe(GAS_PRESETS.H2S);
    expect(presetFor("CL2")).toBe(GAS_PRESETS.Cl2);
    expect(presetFor(" ch4 ")).toBe(GAS_PRESETS.CH4);
    expect(presetFor("xenon")).toBeUndefined();
    expect(presetFor("toString")).toBeUndefined();
  });

  it("cannot be changed by accident: the shared presets are frozen", () => {
    expect(Object.isFrozen(GAS_PRESETS)).toBe(true);
    expect(Object.isFrozen(GAS_PRESETS.CO)).toBe(true);
    expect(Object.isFrozen(DEFAULT_ALARM_SETTINGS)).toBe(true);
  });

  it("fills alarm settings: methane at 26 %LEL raises level 1, at 51 %LEL level 2", () => {
    const ch4 = { ...DEFAULT_ALARM_SETTINGS, ...presetFor("CH4") };
    expect(evaluateReading(emptyMemory(), ch4, reading(0, 26), false).events).toMatchObject([{ type: "HIGH", level: 1 }]);
    expect(evaluateReading(emptyMemory(), ch4, reading(0, 51), false).events).toMatchObject([{ type: "HIGH", level: 2 }]);
  });
});
