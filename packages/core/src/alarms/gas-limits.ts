import { HOLD, INACTIVE, round6, sampleCount, type ConditionVerdict, type DelayCounters } from "./condition.ts";
import type { AlarmLevel, AlarmSettings } from "./types.ts";

export type Direction = "HIGH" | "LOW";

/**
 * One gas sample against the HIGH or LOW limits, with on-delay, off-delay and deadband.
 * `conditionActive` is what the open alarm says (false without one). The returned counters
 * replace the old ones.
 */
export function judgeGasLimits(
  direction: Direction,
  settings: AlarmSettings,
  counters: DelayCounters,
  conditionActive: boolean,
  value: number,
): { counters: DelayCounters; verdict: ConditionVerdict } {
  const [limit1, limit2] = direction === "HIGH" ? [settings.high1, settings.high2] : [settings.low1, settings.low2];
  const limits = [limit1, limit2].filter((limit): limit is number => limit !== null && Number.isFinite(limit));
  // A check switched off cannot hold a condition: it ends, so its alarm can be answered and closed.
  if (limits.length === 0) return { counters: { on: 0, off: 0 }, verdict: conditionActive ? INACTIVE : HOLD };

  const past = (limit: number | null) => limit !== null && (direction === "HIGH" ? value > limit : value < limit);
  const level: AlarmLevel | 0 = past(limit2) ? 2 : past(limit1) ? 1 : 0;
  // The condition ends from the limit nearest to normal (high1 if set, else high2), past the deadband.
  const deadband = Math.max(0, settings.deadband);
  const inside =
    level === 0 &&
    (direction === "HIGH" ? value <= round6(Math.min(...limits) - deadband) : value >= round6(Math.max(...limits) + deadband));

  // Counted up to the setting only: beyond it nothing changes, and equal states stay equal.
  const next = {
    on: level > 0 ? Math.min(counters.on + 1, sampleCount(settings.onDelaySamples)) : 0,
    off: inside ? Math.min(counters.off + 1, sampleCount(settings.offDelaySamples)) : 0,
  };
  if (level !== 0) {
    // Level 2 waits for nobody: with 10 s reports each sample of delay is 10 s of exposure.
    if (conditionActive || level === 2 || next.on >= sampleCount(settings.onDelaySamples)) {
      return { counters: next, verdict: { kind: "active", level, reason: reasonFor(direction, value, level, level === 2 ? limit2 : limit1) } };
    }
    return { counters: next, verdict: HOLD };
  }
  if (inside && conditionActive && next.off >= sampleCount(settings.offDelaySamples)) return { counters: next, verdict: INACTIVE };
  // Between the limit and the deadband: the condition stays as it was (hysteresis).
  return { counters: next, verdict: HOLD };
}

function reasonFor(direction: Direction, value: number, level: AlarmLevel, limit: number | null): string {
  return `value ${value} ${direction === "HIGH" ? ">" : "<"} level ${level} limit ${limit}`;
}
