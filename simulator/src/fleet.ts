import { join } from "node:path";
import { systemClock, type SimClock, type TimerHandle } from "./clock.ts";
import { Detector, type DetectorOptions, type FirmwareState } from "./detector.ts";
import type { GasName } from "./gases.ts";
import { Random, deviceSeed, hashString } from "./random.ts";

export interface FleetDevice {
  sn: string;
  password: string;
  /** Default: the fleet's `gases` in turn. */
  gas?: GasName;
}

/** Rates are events per device per hour (Poisson); 0 or unset turns one off. */
export interface ChaosOptions {
  /** Network outages (the modem loses coverage). */
  offlineRate?: number;
  /** Mean outage length, s (exponential; default 120). */
  offlineMeanS?: number;
  /** Reboots (watchdog, brown-out). */
  rebootRate?: number;
  /** Gas leaks (given to each device's signal). */
  leakRate?: number;
  /** Sensor faults (given to each device's signal). */
  faultRate?: number;
}

export interface FleetOptions extends Omit<DetectorOptions, "sn" | "password" | "gas" | "seed" | "flash" | "clientId"> {
  /** The run's seed: each device's signal is seeded from it and its sn (default 1). */
  seed?: number;
  /** Gases given in turn to devices that name none (default CH4, H2S, CO, NH3, as the demo fleet registers them). */
  gases?: GasName[];
  /** Each device keeps its flash in `<flashDir>/<sn>/` (default: in memory). */
  flashDir?: string;
  chaos?: ChaosOptions;
  /** Connections started per second (default 50), so the broker is not hit all at once. */
  connectPerSecond?: number;
}

export interface FleetSummary {
  devices: number;
  /** Devices connected and reporting live. */
  connected: number;
  /** Devices measuring into their backlog without a connection (offline, connecting). */
  disconnected: number;
  measured: number;
  /** Readings PUBACKed by the broker. */
  sent: number;
  /** Unsent readings held by all devices. */
  backlog: number;
  /** Readings dropped from full backlogs. */
  dropped: number;
  commands: number;
  acks: number;
  /** Reboots and outages the run has seen (chaos and commands). */
  reboots: number;
  outages: number;
  /** Devices with a leak or a sensor fault in progress. */
  leaks: number;
  faults: number;
}

const DEFAULT_GASES: GasName[] = ["CH4", "H2S", "CO", "NH3"];
const CHAOS_TICK_MS = 1_000;

/**
 * Many emulated detectors on one broker: started gradually, with optional chaos (outages,
 * reboots, leaks, faults), deterministic under one seed.
 */
export class Fleet {
  readonly detectors: Detector[];
  readonly clock: SimClock;
  private readonly options: FleetOptions;
  private readonly chaosRandom: Random;
  private chaosTimer: TimerHandle | undefined;
  private readonly restoreTimers = new Map<Detector, TimerHandle>();
  private stopping = false;
  private reboots = 0;
  private outages = 0;

  constructor(devices: FleetDevice[], options: FleetOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    const seed = options.seed ?? 1;
    const gases = options.gases?.length ? options.gases : DEFAULT_GASES;
    this.chaosRandom = new Random(hashString(`${seed}/chaos`));
    const { chaos, flashDir, connectPerSecond: _rate, gases: _gases, seed: _seed, ...common } = options;
    this.detectors = devices.map((device, i) => {
      const detector = new Detector({
        ...common,
        sn: device.sn,
        password: device.password,
        gas: device.gas ?? gases[i % gases.length]!,
        seed: deviceSeed(seed, device.sn),
        clock: this.clock,
        signal: { ...common.signal, leakRatePerHour: chaos?.leakRate ?? common.signal?.leakRatePerHour ?? 0, faultRatePerHour: chaos?.faultRate ?? common.signal?.faultRatePerHour ?? 0 },
        ...(flashDir ? { flash: join(flashDir, device.sn) } : {}),
      });
      detector.on("state", (t) => {
        if (t.to === "power_on" && t.reason.startsWith("reboot")) this.reboots++;
      });
      return detector;
    });
  }

  /** Powers the devices on, `connectPerSecond` at a time; resolves when each has made its first connection attempt. */
  async start(): Promise<void> {
    this.stopping = false;
    this.scheduleChaos();
    const gapMs = 1000 / Math.max(1, this.options.connectPerSecond ?? 50);
    await Promise.all(
      this.detectors.map(async (detector, i) => {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, i * gapMs));
        if (!this.stopping && detector.state === "off") await detector.start();
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.clock.clearTimeout(this.chaosTimer);
    this.chaosTimer = undefined;
    for (const timer of this.restoreTimers.values()) this.clock.clearTimeout(timer);
    this.restoreTimers.clear();
    await Promise.all(this.detectors.map((d) => d.stop()));
  }

  /** Ends the chaos: no more outages or reboots, and every device's network comes back. */
  calm(): void {
    this.clock.clearTimeout(this.chaosTimer);
    this.chaosTimer = undefined;
    for (const timer of this.restoreTimers.values()) this.clock.clearTimeout(timer);
    this.restoreTimers.clear();
    for (const d of this.detectors) if (!d.link) d.restoreLink();
  }

  get sent(): number {
    return this.detectors.reduce((sum, d) => sum + d.stats.sent, 0);
  }

  get connected(): number {
    return this.detectors.filter((d) => d.connected).length;
  }

  summary(): FleetSummary {
    const s: FleetSummary = { devices: this.detectors.length, connected: 0, disconnected: 0, measured: 0, sent: 0, backlog: 0, dropped: 0, commands: 0, acks: 0, reboots: this.reboots, outages: this.outages, leaks: 0, faults: 0 };
    for (const d of this.detectors) {
      if (d.connected) s.connected++;
      else if (d.state !== "off") s.disconnected++;
      s.measured += d.stats.measured;
      s.sent += d.stats.sent;
      s.backlog += d.backlog;
      s.dropped += d.dropped;
      s.commands += d.stats.commands;
      s.acks += d.stats.acks;
      if (d.signal.leak) s.leaks++;
      if (d.signal.activeFault) s.faults++;
    }
    return s;
  }

  /** How many devices are in each firmware state. */
  states(): Partial<Record<FirmwareState, number>> {
    const counts: Partial<Record<FirmwareState, number>> = {};
    for (const d of this.detectors) counts[d.state] = (counts[d.state] ?? 0) + 1;
    return counts;
  }

  /** Network outages and reboots, drawn each second from the run's seeded chaos stream. */
  private scheduleChaos(): void {
    const { offlineRate = 0, rebootRate = 0, offlineMeanS = 120 } = this.options.chaos ?? {};
    if (offlineRate <= 0 && rebootRate <= 0) return;
    const pOffline = 1 - Math.exp((-offlineRate * CHAOS_TICK_MS) / 3_600_000);
    const pReboot = 1 - Math.exp((-rebootRate * CHAOS_TICK_MS) / 3_600_000);
    const tick = () => {
      if (this.stopping || this.chaosTimer === undefined) return;
      for (const d of this.detectors) {
        const outage = this.chaosRandom.chance(pOffline);
        const reboot = this.chaosRandom.chance(pReboot);
        if (d.state === "off" || d.state === "power_on" || d.state === "init") continue;
        if (outage && d.link) {
          this.outages++;
          d.cutLink();
          const timer = this.clock.setTimeout(() => {
            this.restoreTimers.delete(d);
            if (!this.stopping) d.restoreLink();
          }, this.chaosRandom.exponential(offlineMeanS * 1000));
          this.restoreTimers.set(d, timer);
        } else if (reboot) {
          void d.reboot("chaos");
        }
      }
      this.chaosTimer = this.clock.setTimeout(tick, CHAOS_TICK_MS);
    };
    this.chaosTimer = this.clock.setTimeout(tick, CHAOS_TICK_MS);
  }
}

/** One line for the terminal: `12:00:05 connected 498/500 sent 25 000 (+2 480, 49.6/s) backlog 120 dropped 0 acks 3 …`. */
export function formatSummary(s: FleetSummary, previous: FleetSummary | undefined, elapsedMs: number): string {
  const n = (value: number) => value.toLocaleString("en-US");
  const since = previous ? s.sent - previous.sent : s.sent;
  const rate = elapsedMs > 0 ? (since / elapsedMs) * 1000 : 0;
  return [
    new Date().toISOString().slice(11, 19),
    `connected ${n(s.connected)}/${n(s.devices)}`,
    `sent ${n(s.sent)} (+${n(since)}, ${rate.toFixed(1)}/s)`,
    `backlog ${n(s.backlog)}`,
    `dropped ${n(s.dropped)}`,
    `acks ${n(s.acks)}/${n(s.commands)} cmds`,
    `outages ${n(s.outages)}`,
    `reboots ${n(s.reboots)}`,
    `leaks ${n(s.leaks)}`,
    `faults ${n(s.faults)}`,
  ].join("  ");
}
