import { ERR } from "./err-codes.ts";
import { GAS_PROFILES, type GasName, type GasProfile } from "./gases.ts";
import { Random } from "./random.ts";

/**
 * What a detector's sensors read: the gas, temperature, humidity, battery and radio, as
 * one sample per report. Deterministic: the same seed, gas and sequence of sample times
 * give the same samples.
 *
 * ## v_raw
 * `v_raw` is the sensor's linearised output in the gas's own unit (%LEL, ppm, %VOL):
 *
 *     v_raw = gain × c + zero + temp_coeff × (temp − 20)
 *
 * where `c` is the concentration the sensor sees (with its noise). A factory-fresh sensor
 * has gain 1, zero 0, temp_coeff 0, so the platform's calibration with k = 1, b = 0,
 * t_comp = 0 (`ppm = k × v_raw + b + t_comp × (temp − t_ref)`) reads `c` itself. A sensor
 * given another transfer (the `sensor` option) is calibrated back exactly by
 * k = 1/gain, b = −zero/gain, t_comp = −temp_coeff/gain, t_ref = 20.
 *
 * ## The model
 * - gas: the device's clean-air baseline, plus a slowly wandering zero (an
 *   Ornstein–Uhlenbeck drift, about ±2 noise widths over hours), plus Gaussian noise;
 *   readings below 0 are clamped to 0 unless the zero itself has drifted negative.
 * - temperature and humidity: a daily cycle in local time (warmest about 14:30, humidity
 *   the opposite), slow weather, small noise.
 * - leaks: rise (exponential approach over `riseS`), plume (held near the peak with
 *   ±15 % turbulence for `plumeS`), decay (exponential with time constant `decayS`).
 *   By default the peak is 1.3–3 × the level-1 preset (for O2, a depletion 0.5–3 %VOL
 *   below the low alarm), so every leak crosses level 1 and some level 2.
 * - faults: `stuck` (a flat line, no error bit: the server must notice), `over_range`
 *   (pinned at 110 % of range, ERR.OVER_RANGE), `sensor_fail` (v_raw 0, ERR.SENSOR_FAULT),
 *   `zero_drift` (a poisoned sensor's zero sinking to −8 % of range: hides leaks,
 *   ERR.UNDER_RANGE once below −5 %).
 * - battery: state of charge draining linearly over `daysToEmpty`; voltage 3.3–4.2 V on a
 *   Li-ion curve; ERR.LOW_BATTERY below 3.45 V.
 * - RSSI: a device's own level (−55…−95 dBm) wandering ±3 dB, with occasional fades of
 *   10–25 dB lasting minutes.
 */
export interface SignalOptions {
  seed: number;
  gas?: GasName;
  /** Random leaks per hour (Poisson); 0 (default) means leaks happen only when started. */
  leakRatePerHour?: number;
  /** Random sensor faults per hour; 0 (default) means only when started. */
  faultRatePerHour?: number;
  /** Hours east of UTC for the daily cycles (default 8, the plants' time zone). */
  utcOffsetHours?: number;
  /** The sensor's transfer function (see the class comment); default gain 1, zero 0, temp_coeff 0. */
  sensor?: { gain?: number; zero?: number; tempCoeff?: number };
  /** Battery: state of charge at the first sample (default 0.7–1.0) and days from full to empty (default 60–400). */
  battery?: { startSoc?: number; daysToEmpty?: number };
  /** The device's clean-air reading (default drawn from the gas's clean-air range). */
  baseline?: number;
}

/** One sample: the fields of a reading other than `ts` and `seq`, and the true concentration. */
export interface SignalSample {
  v_raw: number;
  temp: number;
  humi: number;
  bat: number;
  rssi: number;
  err: number;
  /** The concentration at the sensor before the sensor's own errors (for tests and summaries). */
  truth: number;
}

export interface LeakOptions {
  /** The value at the plume's peak, in the gas's unit (for O2: the depleted level). */
  peak?: number;
  riseS?: number;
  plumeS?: number;
  decayS?: number;
}

export type LeakPhase = "rise" | "plume" | "decay";

export interface LeakInfo {
  startedAt: number;
  phase: LeakPhase;
  /** Signed amplitude added to the baseline at the peak. */
  amplitude: number;
}

export const FAULT_KINDS = ["stuck", "over_range", "sensor_fail", "zero_drift"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultInfo {
  kind: FaultKind;
  startedAt: number;
  endsAt: number;
}

interface Leak {
  startedAt: number;
  amplitude: number;
  riseS: number;
  plumeS: number;
  decayS: number;
  turbulence: number;
  random: Random;
  /** Shape at the end of the plume, where the decay starts. */
  plumeEnd: number | undefined;
}

interface Fault extends FaultInfo {
  stuckAt: number | undefined;
}

const DAY_S = 86_400;

export class Signal {
  readonly profile: GasProfile;
  readonly seed: number;
  private readonly options: SignalOptions;
  private readonly noise: Random;
  private readonly environment: Random;
  private readonly radio: Random;
  private readonly events: Random;
  private readonly baseline: number;
  private readonly meanTemp: number;
  private readonly tempSwing: number;
  private readonly meanHumi: number;
  private readonly humiSwing: number;
  private readonly rssiLevel: number;
  private readonly daysToEmpty: number;
  private readonly gain: number;
  private readonly zero: number;
  private readonly tempCoeff: number;
  private lastTs: number | undefined;
  private drift = 0;
  private weatherTemp = 0;
  private weatherHumi = 0;
  private rssiWander = 0;
  private fade: { until: number; depth: number } | undefined;
  private soc: number;
  private leakCount = 0;
  private faultCount = 0;
  private current: Leak | undefined;
  private fault: Fault | undefined;
  private lastRaw: number | undefined;

  constructor(options: SignalOptions) {
    this.options = options;
    this.seed = options.seed >>> 0;
    this.profile = GAS_PROFILES[options.gas ?? "CH4"];
    const device = new Random(this.seed).fork("device");
    this.noise = new Random(this.seed).fork("noise");
    this.environment = new Random(this.seed).fork("environment");
    this.radio = new Random(this.seed).fork("radio");
    this.events = new Random(this.seed).fork("events");
    const [cleanMin, cleanMax] = this.profile.cleanAir;
    this.baseline = options.baseline ?? device.uniform(cleanMin, cleanMax);
    this.meanTemp = device.uniform(12, 30);
    this.tempSwing = device.uniform(3, 7);
    this.meanHumi = device.uniform(45, 70);
    this.humiSwing = device.uniform(8, 18);
    this.rssiLevel = device.uniform(-95, -55);
    this.soc = options.battery?.startSoc ?? device.uniform(0.7, 1);
    this.daysToEmpty = options.battery?.daysToEmpty ?? device.uniform(60, 400);
    this.gain = options.sensor?.gain ?? 1;
    this.zero = options.sensor?.zero ?? 0;
    this.tempCoeff = options.sensor?.tempCoeff ?? 0;
  }

  get gas(): GasName {
    return this.profile.gas;
  }

  /** The leak in progress at the last sample, if any. */
  get leak(): LeakInfo | undefined {
    const leak = this.current;
    if (!leak) return undefined;
    const age = (this.lastTs ?? leak.startedAt) - leak.startedAt;
    const phase: LeakPhase = age < leak.riseS ? "rise" : age < leak.riseS + leak.plumeS ? "plume" : "decay";
    return { startedAt: leak.startedAt, phase, amplitude: leak.amplitude };
  }

  get activeFault(): FaultInfo | undefined {
    const fault = this.fault;
    return fault ? { kind: fault.kind, startedAt: fault.startedAt, endsAt: fault.endsAt } : undefined;
  }

  /** State of charge, 0…1. */
  get batteryCharge(): number {
    return this.soc;
  }

  /** Sets the state of charge (0…1) from the next sample on: a battery run low (below about 0.25: ERR.LOW_BATTERY), or a fresh one. */
  setBatteryCharge(soc: number): void {
    this.soc = clamp(soc, 0, 1);
  }

  /**
   * Starts a leak at the next sample (or at `ts`). Its shape is drawn from the signal's
   * own seeded stream, so a leak started at the same moment is the same leak.
   */
  startLeak(options: LeakOptions = {}, ts = this.lastTs ?? 0): LeakInfo {
    const random = this.events.fork(`leak-${++this.leakCount}`);
    const p = this.profile;
    let amplitude: number;
    if (options.peak !== undefined) amplitude = options.peak - this.baseline;
    else if (p.leakDirection === 1) amplitude = p.level1 * random.uniform(1.3, 3) - this.baseline;
    else amplitude = -(this.baseline - p.level1 + random.uniform(0.5, 3));
    this.current = {
      startedAt: ts,
      amplitude,
      riseS: options.riseS ?? random.uniform(30, 120),
      plumeS: options.plumeS ?? random.uniform(120, 600),
      decayS: options.decayS ?? random.uniform(60, 240),
      turbulence: 0,
      random,
      plumeEnd: undefined,
    };
    return { startedAt: ts, phase: "rise", amplitude };
  }

  /** Starts a sensor fault lasting `durationS` (default: exponential, mean 30 min). */
  startFault(kind: FaultKind, durationS?: number, ts = this.lastTs ?? 0): FaultInfo {
    const random = this.events.fork(`fault-${++this.faultCount}`);
    const duration = durationS ?? Math.max(60, random.exponential(1800));
    this.fault = { kind, startedAt: ts, endsAt: ts + duration, stuckAt: kind === "stuck" ? this.lastRaw : undefined };
    return { kind, startedAt: ts, endsAt: ts + duration };
  }

  endFault(): void {
    this.fault = undefined;
  }

  /** The sample at `ts` (Unix seconds; samples must not go back in time). */
  sample(ts: number): SignalSample {
    const dt = this.lastTs === undefined ? 0 : Math.max(0, ts - this.lastTs);
    this.lastTs = ts;
    this.randomEvents(ts, dt);

    // Environment: the day's cycle in local time, slow weather, small noise.
    const local = ts + (this.options.utcOffsetHours ?? 8) * 3600;
    const phase = 2 * Math.PI * ((((local % DAY_S) + DAY_S) % DAY_S) / DAY_S - 14.5 / 24);
    this.weatherTemp = ou(this.weatherTemp, dt, 12 * 3600, 1.5, this.environment);
    this.weatherHumi = ou(this.weatherHumi, dt, 12 * 3600, 5, this.environment);
    const temp = this.meanTemp + this.tempSwing * Math.cos(phase) + this.weatherTemp + 0.1 * this.environment.normal();
    const humi = clamp(this.meanHumi - this.humiSwing * Math.cos(phase) + this.weatherHumi + 0.5 * this.environment.normal(), 5, 99);

    // Gas: baseline + drifting zero + leak + noise.
    const p = this.profile;
    this.drift = ou(this.drift, dt, 6 * 3600, 2 * p.noise, this.noise);
    const truth = Math.max(0, this.baseline + this.leakValue(ts, dt));
    let measured = truth + this.drift + p.noise * this.noise.normal();
    let err = 0;
    const fault = this.fault;
    if (fault?.kind === "zero_drift") {
      const sinking = Math.min(1, (ts - fault.startedAt) / 3600);
      measured -= sinking * 0.08 * p.rangeMax;
    } else if (p.leakDirection === 1) {
      measured = Math.max(0, measured);
    }
    if (measured > p.rangeMax) {
      measured = Math.min(measured, 1.1 * p.rangeMax);
      err |= ERR.OVER_RANGE;
    }
    if (measured < -0.05 * p.rangeMax) err |= ERR.UNDER_RANGE;
    let raw = round(this.gain * measured + this.zero + this.tempCoeff * (temp - 20), p.decimals);
    if (fault?.kind === "stuck") {
      fault.stuckAt ??= raw;
      raw = fault.stuckAt;
    } else if (fault?.kind === "over_range") {
      raw = round(1.1 * p.rangeMax, p.decimals);
      err |= ERR.OVER_RANGE;
    } else if (fault?.kind === "sensor_fail") {
      raw = 0;
      err |= ERR.SENSOR_FAULT;
    }
    this.lastRaw = raw;

    // Battery and radio.
    this.soc = Math.max(0, this.soc - dt / (this.daysToEmpty * DAY_S));
    const bat = round(batteryVolts(this.soc) + 0.005 * this.radio.normal(), 2);
    if (bat < 3.45) err |= ERR.LOW_BATTERY;
    if (temp < -20 || temp > 55) err |= ERR.TEMPERATURE;
    this.rssiWander = ou(this.rssiWander, dt, 600, 3, this.radio);
    if (this.fade && ts >= this.fade.until) this.fade = undefined;
    if (!this.fade && dt > 0 && this.radio.chance(1 - Math.exp(-dt / 3600))) {
      this.fade = { until: ts + this.radio.uniform(60, 300), depth: this.radio.uniform(10, 25) };
    }
    const rssi = Math.round(clamp(this.rssiLevel + this.rssiWander - (this.fade?.depth ?? 0), -120, -40));

    return { v_raw: raw, temp: round(temp, 1), humi: round(humi, 1), bat, rssi, err, truth: round(truth, p.decimals + 1) };
  }

  private randomEvents(ts: number, dt: number): void {
    if (this.fault && ts >= this.fault.endsAt) this.fault = undefined;
    if (dt === 0) return;
    const leakRate = this.options.leakRatePerHour ?? 0;
    if (leakRate > 0 && !this.current && this.events.chance(1 - Math.exp((-leakRate * dt) / 3600))) this.startLeak({}, ts - dt * this.events.next());
    const faultRate = this.options.faultRatePerHour ?? 0;
    if (faultRate > 0 && !this.fault && this.events.chance(1 - Math.exp((-faultRate * dt) / 3600))) this.startFault(this.events.pick(FAULT_KINDS), undefined, ts);
  }

  /** The leak's signed contribution at `ts`; ends the leak once it has decayed away. */
  private leakValue(ts: number, dt: number): number {
    const leak = this.current;
    if (!leak) return 0;
    const age = Math.max(0, ts - leak.startedAt);
    let shape: number;
    if (age < leak.riseS) {
      shape = 1 - Math.exp((-3 * age) / leak.riseS);
    } else if (age < leak.riseS + leak.plumeS) {
      leak.turbulence = clamp(ou(leak.turbulence, dt, 30, 0.6, leak.random), -1, 1);
      shape = 1 + 0.15 * leak.turbulence;
      leak.plumeEnd = shape;
    } else {
      shape = (leak.plumeEnd ?? 1) * Math.exp(-(age - leak.riseS - leak.plumeS) / leak.decayS);
      if (shape < 0.01) {
        this.current = undefined;
        return 0;
      }
    }
    return leak.amplitude * shape;
  }
}

/** One Ornstein–Uhlenbeck step: mean 0, time constant `tau` seconds, stationary deviation `sd`. */
function ou(x: number, dt: number, tau: number, sd: number, random: Random): number {
  if (dt <= 0) return x;
  const decay = Math.exp(-dt / tau);
  return x * decay + sd * Math.sqrt(1 - decay * decay) * random.normal();
}

/** Li-ion open-circuit voltage: 4.2 V full, a long flat middle, 3.3 V empty. */
function batteryVolts(soc: number): number {
  return 3.3 + 0.6 * soc + 0.3 * soc ** 8;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
