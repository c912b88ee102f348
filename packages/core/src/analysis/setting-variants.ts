import type { AlarmSettings } from "../alarms/types.ts";

/** The settings a what-if may change; the rest stay as archived. */
export type WhatIfSettings = Pick<AlarmSettings, "high1" | "high2" | "low1" | "low2" | "deadband" | "onDelaySamples" | "offDelaySamples">;

/** Which devices an override is for: all of one gas, or one device. A device's own override wins over its gas's. */
export type OverrideScope = { kind: "gas"; gas: string } | { kind: "device"; sn: string };

export interface SettingsOverride {
  scope: OverrideScope;
  settings: Partial<WhatIfSettings>;
}

/** Settings per device after overrides; `gasOf` tells a device's gas. */
export function withOverrides(
  base: (sn: string) => AlarmSettings | null,
  gasOf: (sn: string) => string | null,
  overrides: readonly SettingsOverride[],
): (sn: string) => AlarmSettings | null {
  return (sn) => {
    const settings = base(sn);
    if (!settings) return null;
    const gas = gasOf(sn);
    const forGas = overrides.filter((o) => o.scope.kind === "gas" && o.scope.gas === gas);
    const forDevice = overrides.filter((o) => o.scope.kind === "device" && o.scope.sn === sn);
    return [...forGas, ...forDevice].reduce<AlarmSettings>((merged, o) => ({ ...merged, ...definedOnly(o.settings) }), settings);
  };
}

/**
 * A stricter plant: limits 20 % closer to normal air (HIGH × 0.8, LOW × 1.02, so O2 19.5
 * → 19.89), half the deadband, no on-delay. What it adds is what the current settings let
 * through.
 */
export function stricterSettings(settings: AlarmSettings): AlarmSettings {
  return {
    ...settings,
    high1: scaled(settings.high1, 0.8),
    high2: scaled(settings.high2, 0.8),
    low1: scaled(settings.low1, 1.02),
    low2: scaled(settings.low2, 1.02),
    deadband: round(settings.deadband * 0.5),
    onDelaySamples: 1,
  };
}

/** A looser plant: HIGH × 1.2, LOW × 0.98, 1.5 × the deadband, two more samples of on-delay (level 2 still waits at most one). */
export function looserSettings(settings: AlarmSettings): AlarmSettings {
  return {
    ...settings,
    high1: scaled(settings.high1, 1.2),
    high2: scaled(settings.high2, 1.2),
    low1: scaled(settings.low1, 0.98),
    low2: scaled(settings.low2, 0.98),
    deadband: round(settings.deadband * 1.5),
    onDelaySamples: settings.onDelaySamples + 2,
  };
}

function scaled(limit: number | null, factor: number): number | null {
  return limit === null ? null : round(limit * factor);
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

function definedOnly(settings: Partial<WhatIfSettings>): Partial<WhatIfSettings> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<WhatIfSettings>;
}
