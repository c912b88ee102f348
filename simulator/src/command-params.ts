import type { LocalCalibration } from "./flash.ts";

/**
 * `set_debug` params: `{"interval_s": 1, "duration_min": 10}` reports every `interval_s`
 * seconds (1–3600, default 1) for `duration_min` minutes (up to 1440, default 10), then
 * the normal interval again. `{"interval_s": 0}` or `{"enabled": false}` ends debug mode now.
 */
export type DebugParams = { enabled: false } | { enabled: true; intervalMs: number; durationMs: number };

export function parseDebugParams(params: Record<string, unknown>): DebugParams | string {
  if (params.enabled === false || params.interval_s === 0) return { enabled: false };
  const interval = params.interval_s ?? 1;
  const duration = params.duration_min ?? 10;
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval < 1 || interval > 3600) return "params.interval_s must be a number of seconds from 1 to 3600";
  if (typeof duration !== "number" || !Number.isFinite(duration) || duration <= 0 || duration > 1440) return "params.duration_min must be a number of minutes above 0, at most 1440";
  return { enabled: true, intervalMs: Math.round(interval * 1000), durationMs: Math.round(duration * 60_000) };
}

const CALIB_KEYS = ["k", "b", "t_comp", "t_ref"] as const;

/**
 * `set_calib` params: any of `k`, `b`, `t_comp`, `t_ref` (finite numbers); the others keep
 * their values. Other keys (such as the server's `calib_version`) are ignored.
 */
export function parseCalibParams(params: Record<string, unknown>, current: LocalCalibration): LocalCalibration | string {
  const next = { ...current };
  let changed = 0;
  for (const key of CALIB_KEYS) {
    const value = params[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value)) return `params.${key} must be a finite number`;
    next[key] = value;
    changed++;
  }
  if (changed === 0) return "params must hold at least one of k, b, t_comp, t_ref";
  if (next.k === 0) return "params.k must not be 0";
  return next;
}
