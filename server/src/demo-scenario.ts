import { presetFor } from "@mcs/core";
import { createLogger } from "@mcs/platform";
import { systemClock, type Detector, type SimClock, type TimerHandle } from "@mcs/simulator";

const log = createLogger("demo-scenario");

/**
 * One cycle of the demo scenario, in ms from the cycle's start (at speed 1). Chosen so that
 * the leak is above level 2 for over two and a half minutes (time to walk to the screen and
 * acknowledge), the outage lasts well over the 3 report intervals (30 s) after which a
 * silent detector counts as offline (its will makes it offline at once anyway), and
 * everything is back to normal before the next cycle.
 */
export const DEMO_CYCLE = Object.freeze({
  /**
   * The leak: the rise (1 − e^(−3t/riseS), see simulator/src/signal.ts) reaches level 1
   * after about 0.16 × riseS and level 2 after about 0.5 × riseS (peak 1.3 × level 2); the
   * plume holds ±15 % around the peak, above level 2; the decay falls below level 1 within
   * about 40 s.
   */
  leak: { atMs: 0, riseS: 120, plumeS: 90, decayS: 30, peakOfLevel2: 1.3 },
  /** The link of another detector is cut for `durationMs`. */
  outage: { atMs: 20_000, durationMs: 90_000 },
  /** A third detector's battery runs low (3.36 V) for `durationMs`, then is "replaced" (full). */
  lowBattery: { atMs: 40_000, durationMs: 120_000, soc: 0.1 },
  /** From the cycle's start until all is normal again: the shortest period (at speed 1). */
  lengthMs: 300_000,
});

export type DemoAction =
  | { kind: "leak"; sn: string; riseS: number; plumeS: number; decayS: number }
  | { kind: "cut_link"; sn: string }
  | { kind: "restore_link"; sn: string }
  | { kind: "battery_low"; sn: string; soc: number }
  | { kind: "battery_full"; sn: string };

export interface DemoStep {
  /** ms from the cycle's start. */
  atMs: number;
  action: DemoAction;
}

/** Which demo detector plays which part: the same ones every cycle. */
export interface DemoRoles {
  leak: string | undefined;
  outage: string | undefined;
  lowBattery: string | undefined;
}

/**
 * The parts, by place in the fleet (DEMO-001, DEMO-002, …; the demo registers CH4, H2S, CO,
 * NH3 in turn): the leak on the second detector (DEMO-002, the first H2S one: a toxic gas,
 * the alarm that outranks), the outage on the third (DEMO-003), the low battery on the
 * fourth (DEMO-004). A smaller fleet falls back on DEMO-001, and leaves out what it lacks
 * detectors for.
 */
export function demoRoles(sns: readonly string[]): DemoRoles {
  const order = [sns[1], sns[2], sns[3], sns[0]].filter((sn): sn is string => sn !== undefined);
  return { leak: order[0], outage: order[1], lowBattery: order[2] };
}

/** The steps of one cycle over the demo detectors `sns`, in time order. Durations are divided by `speed` (tests). */
export function demoCycle(sns: readonly string[], speed = 1): DemoStep[] {
  const roles = demoRoles(sns);
  const c = DEMO_CYCLE;
  const t = (ms: number) => Math.round(ms / speed);
  const steps: DemoStep[] = [];
  if (roles.leak) steps.push({ atMs: t(c.leak.atMs), action: { kind: "leak", sn: roles.leak, riseS: c.leak.riseS / speed, plumeS: c.leak.plumeS / speed, decayS: c.leak.decayS / speed } });
  if (roles.outage) {
    steps.push({ atMs: t(c.outage.atMs), action: { kind: "cut_link", sn: roles.outage } });
    steps.push({ atMs: t(c.outage.atMs + c.outage.durationMs), action: { kind: "restore_link", sn: roles.outage } });
  }
  if (roles.lowBattery) {
    steps.push({ atMs: t(c.lowBattery.atMs), action: { kind: "battery_low", sn: roles.lowBattery, soc: c.lowBattery.soc } });
    steps.push({ atMs: t(c.lowBattery.atMs + c.lowBattery.durationMs), action: { kind: "battery_full", sn: roles.lowBattery } });
  }
  return steps.sort((a, b) => a.atMs - b.atMs);
}

/** A device's high limits as stored (null: unknown, the gas preset's apply). */
export type DemoLimits = { gas: string; unit?: string; high_limit: number | null; high_limit_2: number | null } | null;

/** The leak's peak for a device: 1.3 × its level 2 (from its settings, else its gas preset; 2.6 × level 1 without a level 2), under 95 % of the range. */
export function leakPeak(limits: DemoLimits, gas: string): number | undefined {
  const preset = presetFor(limits?.gas ?? gas, limits?.unit);
  const level2 = limits?.high_limit_2 ?? preset?.high2 ?? null;
  const level1 = limits?.high_limit ?? preset?.high1 ?? null;
  const peak = level2 !== null ? level2 * DEMO_CYCLE.leak.peakOfLevel2 : level1 !== null ? level1 * 2 * DEMO_CYCLE.leak.peakOfLevel2 : undefined;
  const range = preset?.rangeMax;
  return peak === undefined ? undefined : range !== undefined ? Math.min(peak, 0.95 * range) : peak;
}

export interface DemoScenarioOptions {
  /** The running demo fleet's detectors (`Fleet.detectors`). */
  detectors: readonly Detector[];
  /** A device's stored limits, so the leak crosses the levels it really has. */
  limitsOf(sn: string): Promise<DemoLimits>;
  /** ms from the start to the first cycle. */
  firstEventAfterMs: number;
  /** ms from one cycle's start to the next; never less than the cycle's length (`DEMO_CYCLE.lengthMs / speed`). */
  periodMs: number;
  /** Tests: the events' lengths divided by this (default 1). */
  speed?: number;
  /** Default: the real clock (the fleet's own). */
  clock?: SimClock;
}

export interface DemoScenario {
  /** Cycles started so far. */
  readonly cycles: number;
  /** Which detector plays which part. */
  readonly roles: DemoRoles;
  /** ms between cycles, as in force (the asked period, at least the cycle's length). */
  readonly periodMs: number;
  /** Timers set and not yet fired (0 once stopped). */
  readonly pending: number;
  stop(): void;
}

/**
 * The demo scenario: every `periodMs` a scripted cycle on the running demo fleet — a slow
 * leak through level 1 and level 2, another detector offline and back, a third one's
 * battery low and then replaced — so the big screen's ripple and sound, the alarm list and
 * acknowledgement can all be seen. Only ever given the demo fleet; `stop` leaves no timer
 * (the fleet is stopped right after it).
 */
export function startDemoScenario(options: DemoScenarioOptions): DemoScenario {
  const clock = options.clock ?? systemClock;
  const speed = options.speed ?? 1;
  const periodMs = Math.max(options.periodMs, Math.round(DEMO_CYCLE.lengthMs / speed));
  const timers = new Set<TimerHandle>();
  const bySn = new Map<string, Detector>(options.detectors.map((d) => [d.sn, d]));
  const sns = options.detectors.map((d) => d.sn);
  const roles = demoRoles(sns);
  const steps = demoCycle(sns, speed);
  let stopped = false;
  let cycles = 0;

  const later = (ms: number, fn: () => void | Promise<void>) => {
    const timer = clock.setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      Promise.resolve()
        .then(fn)
        .catch((error: unknown) => log.warn({ err: error }, "demo: scripted event failed"));
    }, Math.max(0, ms));
    timers.add(timer);
  };

  async function play(action: DemoAction): Promise<void> {
    const detector = bySn.get(action.sn);
    if (!detector) return;
    switch (action.kind) {
      case "leak": {
        const limits = await options.limitsOf(action.sn).catch(() => null);
        const peak = leakPeak(limits, detector.signal.gas);
        if (peak === undefined || stopped) return;
        detector.signal.startLeak({ peak, riseS: action.riseS, plumeS: action.plumeS, decayS: action.decayS }, Math.floor(clock.now() / 1000));
        const round = (value: number) => Math.round(value * 100) / 100;
        log.info(
          { sn: action.sn, gas: detector.signal.gas, peak: round(peak), level1: limits?.high_limit ?? null, level2: limits?.high_limit_2 ?? null, rise_s: round(action.riseS), plume_s: round(action.plumeS) },
          `demo: leak starting on ${action.sn} (${detector.signal.gas} rising to ${round(peak)} ${detector.signal.profile.unit}, through level 1 and level 2)`,
        );
        return;
      }
      case "cut_link":
        if (!detector.link) return;
        detector.cutLink();
        log.info({ sn: action.sn }, `demo: ${action.sn} goes offline (its network is cut)`);
        return;
      case "restore_link":
        if (detector.link) return;
        detector.restoreLink();
        log.info({ sn: action.sn }, `demo: ${action.sn} comes back online`);
        return;
      case "battery_low":
        detector.signal.setBatteryCharge(action.soc);
        log.info({ sn: action.sn }, `demo: ${action.sn}'s battery runs low`);
        return;
      case "battery_full":
        detector.signal.setBatteryCharge(1);
        log.info({ sn: action.sn }, `demo: ${action.sn}'s battery replaced (full)`);
        return;
    }
  }

  const cycle = () => {
    cycles++;
    for (const step of steps) later(step.atMs, () => play(step.action));
    later(periodMs, cycle);
  };
  later(options.firstEventAfterMs, cycle);
  log.info(
    { first_event_after_s: options.firstEventAfterMs / 1000, period_s: periodMs / 1000, speed, leak: roles.leak ?? null, outage: roles.outage ?? null, low_battery: roles.lowBattery ?? null },
    "demo scenario on (MCS_DEMO_SCENARIO=off turns it off)",
  );

  return {
    get cycles() {
      return cycles;
    },
    roles,
    periodMs,
    get pending() {
      return timers.size;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clock.clearTimeout(timer);
      timers.clear();
    },
  };
}
