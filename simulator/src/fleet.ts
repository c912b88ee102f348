import { Detector, type DetectorOptions } from "./detector.ts";

export interface FleetDevice {
  sn: string;
  password: string;
}

/** Many detectors on one broker, started a few at a time so the broker is not hit all at once. */
export class Fleet {
  readonly detectors: Detector[];

  constructor(devices: FleetDevice[], common: Omit<DetectorOptions, "sn" | "password">) {
    this.detectors = devices.map((d, i) => new Detector({ ...common, ...d, seed: (common.seed ?? 1) * 1000 + i }));
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.detectors.length; i += 20) {
      await Promise.all(this.detectors.slice(i, i + 20).map((d) => d.start()));
    }
  }

  get sent(): number {
    return this.detectors.reduce((sum, d) => sum + d.sent, 0);
  }

  get connected(): number {
    return this.detectors.filter((d) => d.connected).length;
  }

  async stop(): Promise<void> {
    await Promise.all(this.detectors.map((d) => d.stop()));
  }
}
