import { flagsToMask, type ReadingFlag } from "@mcs/protocol";

/** A device's calibration: `ppm = k × v_raw + b + t_comp × (temp − t_ref)`. */
export interface Calibration {
  k: number;
  b: number;
  t_comp: number;
  t_ref: number;
}

/** Above this the value is no gas reading but a sensor or calibration fault. */
export const ANOMALY_LIMIT = 50_000;

export interface Calibrated {
  ppm: number;
  flags: ReadingFlag[];
  /** The flags as stored (bit mask). */
  mask: number;
}

/**
 * Turns a raw sensor value into a concentration. A result below 0 is stored as 0 (flagged
 * `negative`, since a zero drifting below 0 can hide a leak); above 50 000 it is kept and
 * flagged `anomaly`. Without a temperature the compensation term is 0.
 */
export function calibrate(calibration: Calibration, v_raw: number, temp?: number): Calibrated {
  const compensation = temp === undefined ? 0 : calibration.t_comp * (temp - calibration.t_ref);
  const value = round(calibration.k * v_raw + calibration.b + compensation);
  const flags: ReadingFlag[] = [];
  let ppm = value;
  if (value < 0) {
    ppm = 0;
    flags.push("negative");
  } else if (value > ANOMALY_LIMIT) {
    flags.push("anomaly");
  }
  return { ppm, flags, mask: flagsToMask(flags) };
}

/** Six decimals: enough for any sensor, and 2 × 100 + 1 + 0.5 × 5 reads 203.5, not 203.50000000000003. */
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
