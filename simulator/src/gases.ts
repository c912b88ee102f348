/**
 * The gases a detector can be built for, with the unit, range and alarm presets of
 * `../shared/DOMAIN.md` (GB/T 50493-2019 presets at 20 °C), and what clean air looks like
 * to such a sensor.
 */
export type GasUnit = "%LEL" | "ppm" | "%VOL";

export interface GasProfile {
  gas: GasName;
  unit: GasUnit;
  /** Full scale of the sensor: 0…rangeMax. */
  rangeMax: number;
  /**
   * Level 1 and level 2 presets. For a toxic or combustible gas both are high alarms
   * (level 2 > level 1). For O2, level 1 is the low alarm (19.5 %VOL, oxygen deficiency)
   * and level 2 the high alarm (23.5 %VOL, enrichment).
   */
  level1: number;
  level2: number;
  /** The preset `high_limit` / `low_limit` a device of this gas is registered with. */
  highLimit: number;
  lowLimit: number | null;
  /** Clean-air reading: a device's own baseline is drawn from [min, max]. */
  cleanAir: readonly [min: number, max: number];
  /** Standard deviation of the sensor's noise, in the unit. */
  noise: number;
  /** Decimals the firmware reports. */
  decimals: number;
  /** A leak pushes the value up (toxic, combustible) or down (O2 displaced by an inert gas). */
  leakDirection: 1 | -1;
}

export const GAS_NAMES = ["CH4", "O2", "H2S", "CO", "NH3", "Cl2", "SO2", "NO2", "HCN"] as const;
export type GasName = (typeof GAS_NAMES)[number];

const toxic = (gas: GasName, rangeMax: number, level1: number, level2: number, cleanAir: readonly [number, number], noise: number, decimals: number): GasProfile => ({
  gas, unit: "ppm", rangeMax, level1, level2, highLimit: level1, lowLimit: null, cleanAir, noise, decimals, leakDirection: 1,
});

export const GAS_PROFILES: Readonly<Record<GasName, GasProfile>> = {
  CH4: { gas: "CH4", unit: "%LEL", rangeMax: 100, level1: 25, level2: 50, highLimit: 25, lowLimit: null, cleanAir: [0, 1.5], noise: 0.25, decimals: 1, leakDirection: 1 },
  O2: { gas: "O2", unit: "%VOL", rangeMax: 25, level1: 19.5, level2: 23.5, highLimit: 23.5, lowLimit: 19.5, cleanAir: [20.8, 21.0], noise: 0.04, decimals: 2, leakDirection: -1 },
  H2S: toxic("H2S", 100, 7, 14, [0, 0.5], 0.08, 2),
  CO: toxic("CO", 1000, 17, 34, [0, 3], 0.4, 1),
  NH3: toxic("NH3", 100, 28, 56, [0, 4], 0.4, 1),
  Cl2: toxic("Cl2", 10, 0.34, 0.68, [0, 0.02], 0.01, 3),
  SO2: toxic("SO2", 20, 1.9, 3.8, [0, 0.2], 0.04, 2),
  NO2: toxic("NO2", 20, 2.6, 5.2, [0, 0.2], 0.04, 2),
  HCN: toxic("HCN", 30, 0.9, 1.8, [0, 0.05], 0.02, 3),
};

export function isGasName(value: string): value is GasName {
  return (GAS_NAMES as readonly string[]).includes(value);
}

export function gasProfile(gas: GasName): GasProfile {
  return GAS_PROFILES[gas];
}

/** True when `value` is in alarm at level 1 for this gas (at or above it; for O2 at or below the low alarm). */
export function crossesLevel1(profile: GasProfile, value: number): boolean {
  return profile.leakDirection === 1 ? value >= profile.level1 : value <= profile.level1;
}
