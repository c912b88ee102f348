export interface GasPreset {
  gas: string;
  unit: "ppm" | "%LEL" | "%VOL";
  rangeMax: number;
  high1: number | null;
  high2: number | null;
  low1: number | null;
  low2: number | null;
  deadband: number;
  /** Where the setpoints come from, e.g. "GB/T 50493-2019: 25 / 50 %LEL". */
  basis: string;
}

type Setpoints = Omit<GasPreset, "deadband">;

/**
 * Vendors default the deadband to 2 % of full scale. Where that reaches below zero (CO:
 * 20 ppm against a 17 ppm limit) the alarm could never clear, so it is capped at half the
 * level-1 limit nearest to zero.
 */
function withDeadband(preset: Setpoints): GasPreset {
  return Object.freeze({ ...preset, deadband: defaultDeadband(preset.rangeMax, [preset.high1, preset.high2]) });
}

/** 2 % of full scale, at most half the lowest HIGH limit (so the alarm can clear). */
export function defaultDeadband(rangeMax: number, highLimits: readonly (number | null)[]): number {
  const twoPercent = Math.round(rangeMax * 0.02 * 1e6) / 1e6;
  const limits = highLimits.filter((limit): limit is number => limit !== null && limit > 0);
  return limits.length === 0 ? twoPercent : Math.min(twoPercent, Math.min(...limits) / 2);
}

// Toxic level 1 / level 2 = 100 % / 200 % of the OEL (GBZ 2.1), ppm = mg/m³ × 24.04 / molar mass at 20 °C.
const toxic = (gas: string, rangeMax: number, high1: number, high2: number, oel: string): GasPreset =>
  withDeadband({ gas, unit: "ppm", rangeMax, high1, high2, low1: null, low2: null, basis: `GBZ 2.1 ${oel} → ${high1} / ${high2} ppm` });

export const GAS_PRESETS: Record<string, GasPreset> = Object.freeze({
  CH4: withDeadband({ gas: "CH4", unit: "%LEL", rangeMax: 100, high1: 25, high2: 50, low1: null, low2: null, basis: "GB/T 50493-2019: 25 / 50 %LEL" }),
  // Oxygen has no level 2: deficiency and enrichment are each one alarm.
  O2: withDeadband({ gas: "O2", unit: "%VOL", rangeMax: 25, high1: 23.5, high2: null, low1: 19.5, low2: null, basis: "GB/T 50493-2019: low 19.5 / high 23.5 %VOL" }),
  H2S: toxic("H2S", 100, 7, 14, "MAC 10 mg/m³"),
  CO: toxic("CO", 1000, 17, 34, "PC-TWA 20 mg/m³"),
  NH3: toxic("NH3", 100, 28, 56, "PC-TWA 20 mg/m³"),
  Cl2: toxic("Cl2", 10, 0.34, 0.68, "MAC 1 mg/m³"),
  SO2: toxic("SO2", 20, 1.9, 3.8, "PC-TWA 5 mg/m³"),
  NO2: toxic("NO2", 20, 2.6, 5.2, "PC-TWA 5 mg/m³"),
  HCN: toxic("HCN", 30, 0.9, 1.8, "MAC 1 mg/m³"),
});

/** The preset for a gas name in any case ("h2s", "CL2"), or undefined; with `unit`, only if its setpoints are in that unit. */
export function presetFor(gas: string, unit?: string): GasPreset | undefined {
  const wanted = gas.trim().toLowerCase();
  const preset = Object.values(GAS_PRESETS).find((candidate) => candidate.gas.toLowerCase() === wanted);
  return unit === undefined || preset?.unit === unit ? preset : undefined;
}
