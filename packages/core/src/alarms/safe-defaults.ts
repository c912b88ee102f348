import { defaultDeadband, presetFor } from "./presets.ts";

/** The alarm fields a preset fills when they are not given. */
export const PRESET_FIELDS = ["high_limit", "high_limit_2", "low_limit", "low_limit_2", "range_max", "deadband"] as const;
export type PresetField = (typeof PRESET_FIELDS)[number];
const LIMITS = ["high_limit", "high_limit_2", "low_limit", "low_limit_2"] as const;

export type AlarmFields = Record<PresetField, number | null>;

/** A device's gas and alarm fields as asked for: null or undefined = not given. */
export interface AlarmFieldsRequest extends Partial<Record<PresetField, number | null | undefined>> {
  gas: string;
  unit: string;
  monitor_only?: boolean | undefined;
  monitor_reason?: string | null | undefined;
}

export type SafeAlarmFields =
  | { ok: true; fields: AlarmFields; applied: PresetField[]; basis: string | null }
  | { ok: false; fields: string[]; message: string };

/**
 * Fail-safe by default: no detector is left without alarm limits by omission. A field not
 * given comes from the preset of the device's gas (in its unit); a gas without one must have
 * its limits and range given. A device with no limits at all is possible only as an explicit
 * "monitor only" choice with a reason (it then shows a "not configured" fault everywhere).
 */
export function safeAlarmFields(request: AlarmFieldsRequest): SafeAlarmFields {
  const given = (field: PresetField) => request[field] !== undefined && request[field] !== null;
  const preset = presetFor(request.gas, request.unit);
  const fields = Object.fromEntries(PRESET_FIELDS.map((field) => [field, request[field] ?? null])) as AlarmFields;
  const applied: PresetField[] = [];
  const fill = (field: PresetField, value: number | null) => {
    if (given(field) || value === null) return;
    fields[field] = value;
    applied.push(field);
  };

  if (request.monitor_only) {
    if (!request.monitor_reason?.trim()) return refused(["monitor_reason"], "monitor_reason: say why this detector has no alarm limits");
    const limits = LIMITS.filter(given);
    if (limits.length > 0) return refused(["monitor_only", ...limits], `monitor_only: a monitor-only device has no alarm limits (remove ${limits.join(", ")}, or turn monitor_only off)`);
    // The range still tells when the sensor saturates: an over-range reading raises its alarm anyway.
    if (preset) fill("range_max", preset.rangeMax);
    fill("deadband", 0);
    return { ok: true, fields, applied, basis: preset ? preset.basis : null };
  }

  if (preset) {
    fill("high_limit", preset.high1);
    fill("high_limit_2", preset.high2);
    fill("low_limit", preset.low1);
    fill("low_limit_2", preset.low2);
    fill("range_max", preset.rangeMax);
    fill("deadband", preset.deadband);
    return { ok: true, fields, applied, basis: preset.basis };
  }

  const missing: string[] = [];
  if (!given("high_limit") && !given("low_limit")) missing.push("high_limit", "low_limit");
  if (!given("range_max")) missing.push("range_max");
  if (missing.length > 0) {
    const what = missing.includes("high_limit") ? `high_limit or low_limit${missing.includes("range_max") ? " and range_max" : ""}` : "range_max";
    return refused(missing, `${missing[0]}: there is no alarm preset for ${request.gas} in ${request.unit}; give ${what} (or choose monitor_only with a reason)`);
  }
  fill("deadband", defaultDeadband(fields.range_max!, [fields.high_limit, fields.high_limit_2]));
  return { ok: true, fields, applied, basis: applied.length > 0 ? "deadband: 2 % of full scale" : null };
}

function refused(fields: string[], message: string): SafeAlarmFields {
  return { ok: false, fields, message };
}
