import type { Reading } from "@mcs/protocol";
import { seededRandom } from "./random.ts";

/**
 * A detector's raw signal: a baseline with noise and slow drift, and a day's temperature
 * and humidity cycle. With the default calibration (k=1, b=0) v_raw reads as the gas value.
 */
export class Signal {
  private readonly random: () => number;
  private readonly baseline: number;
  private drift = 0;

  constructor(seed: number, baseline = 2) {
    this.random = seededRandom(seed);
    this.baseline = baseline * (0.5 + this.random());
  }

  next(ts: number, seq: number): Reading {
    const day = ((ts % 86_400) / 86_400) * 2 * Math.PI;
    this.drift += (this.random() - 0.5) * 0.01;
    const noise = (this.random() - 0.5) * 0.2;
    return {
      ts,
      seq,
      v_raw: round(Math.max(0, this.baseline + this.drift + noise), 3),
      temp: round(22 + 6 * Math.sin(day) + (this.random() - 0.5), 1),
      humi: round(55 - 15 * Math.sin(day) + (this.random() - 0.5) * 2, 1),
      bat: round(3.9 - this.random() * 0.05, 2),
      rssi: Math.round(-65 + (this.random() - 0.5) * 10),
      err: 0,
    };
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
