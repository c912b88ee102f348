import { alarmLimitProblem, type AlarmPreset, type Device, type DeviceCreate, type DevicePatch, type UNITS } from "@mcs/protocol";

/**
 * What the add/edit dialog edits. Numbers are null while their box is empty: for an alarm
 * limit, the range or the deadband that means "from the gas preset" (the server fills it);
 * for the battery and stuck checks "not checked"; for a required number the schema says it
 * is missing.
 */
export interface DeviceForm {
  sn: string;
  name: string;
  gas: string;
  unit: (typeof UNITS)[number];
  enabled: boolean;
  report_interval_s: number | null;
  k: number | null;
  b: number | null;
  t_comp: number | null;
  t_ref: number | null;
  calib_note: string;
  /** The next calibration's date (YYYY-MM-DD), or null: not planned. */
  calib_due: string | null;
  high_limit: number | null;
  high_limit_2: number | null;
  low_limit: number | null;
  low_limit_2: number | null;
  deadband: number | null;
  on_delay_samples: number | null;
  off_delay_samples: number | null;
  latching: boolean;
  range_max: number | null;
  low_battery_v: number | null;
  stuck_samples: number | null;
  /** No alarm limits, by choice: then a reason is required and the limits stay empty. */
  monitor_only: boolean;
  monitor_reason: string;
}

/** The fields an empty box leaves to the gas preset (as the server's preset_applied names them). */
export const PRESET_FIELDS = ["high_limit", "high_limit_2", "low_limit", "low_limit_2", "range_max", "deadband"] as const;
export type PresetField = (typeof PRESET_FIELDS)[number];
/** The alarm limits proper: a monitor-only device has none. */
export const LIMIT_FIELDS = ["high_limit", "high_limit_2", "low_limit", "low_limit_2"] as const;

/** The fields a PATCH carries when changed, as they are (the preset fields and monitor-only have rules of their own). */
const EDITABLE = [
  "name", "gas", "unit", "enabled", "report_interval_s", "k", "b", "t_comp", "t_ref",
  "on_delay_samples", "off_delay_samples", "latching", "low_battery_v", "stuck_samples", "calib_due",
] as const satisfies readonly (keyof DeviceForm & keyof Device)[];
const CALIBRATION = ["k", "b", "t_comp", "t_ref"] as const;

/** A new device, with the server's own defaults shown (methane in %LEL, identity calibration); alarm fields from the preset. */
export function newDeviceForm(): DeviceForm {
  return {
    sn: "", name: "", gas: "CH4", unit: "%LEL", enabled: true, report_interval_s: 10,
    k: 1, b: 0, t_comp: 0, t_ref: 25, calib_note: "", calib_due: null,
    high_limit: null, high_limit_2: null, low_limit: null, low_limit_2: null, deadband: null,
    on_delay_samples: 1, off_delay_samples: 1, latching: false, range_max: null, low_battery_v: 3.5, stuck_samples: null,
    monitor_only: false, monitor_reason: "",
  };
}

export function formOf(device: Device): DeviceForm {
  const form = newDeviceForm();
  for (const field of [...EDITABLE, ...PRESET_FIELDS, "monitor_only"] as const) (form as unknown as Record<string, unknown>)[field] = device[field];
  return { ...form, sn: device.sn, calib_note: "", monitor_reason: device.monitor_reason ?? "" };
}

/** The alarm fields a body carries: given values only (an empty box is left out: the preset fills it), no limits when monitor-only. */
function givenAlarmFields(form: DeviceForm): Partial<Record<PresetField, number>> {
  const fields: Partial<Record<PresetField, number>> = {};
  for (const field of PRESET_FIELDS) {
    const value = form[field];
    if (value !== null && !(form.monitor_only && (LIMIT_FIELDS as readonly string[]).includes(field))) fields[field] = value;
  }
  return fields;
}

/**
 * A create body: every field as shown, but an empty name (the server names the device after
 * its sn) and empty alarm fields left out (null and absent both mean "from the preset"; left
 * out, nothing can read them as "not checked"). The reason goes only with monitor-only.
 */
export function createBody(form: DeviceForm): DeviceCreate {
  const { calib_note: _note, name, monitor_reason, high_limit: _h1, high_limit_2: _h2, low_limit: _l1, low_limit_2: _l2, range_max: _r, deadband: _d, ...fields } = form;
  return {
    ...fields,
    ...givenAlarmFields(form),
    ...(name.trim() ? { name } : {}),
    ...(form.monitor_only && { monitor_reason: monitor_reason.trim() }),
  } as DeviceCreate;
}

/**
 * A PATCH body: only what changed; the note goes with a calibration change. An alarm field
 * emptied is sent as null: back to the preset. A new gas or unit, or monitor-only turned on or
 * off, makes the server take the preset for every alarm field not sent, so every value still
 * shown is sent with it. The deadband cannot be null: emptied, it is sent as the preset's (the
 * value its box shows), or left as it is when there is no preset.
 */
export function patchBody(form: DeviceForm, device: Device, preset?: AlarmPreset): DevicePatch {
  const patch: Record<string, unknown> = {};
  for (const field of EDITABLE) if (form[field] !== device[field]) patch[field] = form[field];
  if (form.monitor_only !== device.monitor_only) patch.monitor_only = form.monitor_only;
  if (form.monitor_only && (form.monitor_reason.trim() !== (device.monitor_reason ?? "") || !device.monitor_only)) patch.monitor_reason = form.monitor_reason.trim();

  const fresh = form.gas !== device.gas || form.unit !== device.unit || form.monitor_only !== device.monitor_only;
  const given = givenAlarmFields(form);
  for (const field of PRESET_FIELDS) {
    const value = given[field] ?? null;
    if (fresh) {
      if (value !== null) patch[field] = value;
    } else if (value !== device[field]) {
      if (field !== "deadband") patch[field] = value;
      else if (value !== null) patch[field] = value;
      else if (preset && preset.deadband !== device.deadband && !form.monitor_only) patch[field] = preset.deadband;
    }
  }
  // Turning monitor-only on: the server drops the limits itself (sending null for them would mean "from the preset").
  if (form.monitor_only) for (const field of LIMIT_FIELDS) delete patch[field];

  const calibrationChanged = CALIBRATION.some((field) => field in patch);
  if (calibrationChanged && form.calib_note.trim()) patch.calib_note = form.calib_note.trim();
  return patch as DevicePatch;
}

export function calibrationChanged(form: DeviceForm, device: Device | null): boolean {
  return device !== null && CALIBRATION.some((field) => form[field] !== device[field]);
}

/** The fields alarmLimitProblem names. */
export type LimitField = "high_limit_2" | "low_limit_2" | "low_limit";

/**
 * Which limit cannot work with the others, as the server checks it, with empty boxes read as
 * the preset fills them (its reason is English: the UI words its own).
 */
export function limitProblem(form: DeviceForm, preset?: AlarmPreset): LimitField | null {
  if (form.monitor_only) return null;
  const effective = Object.fromEntries(LIMIT_FIELDS.map((field) => [field, form[field] ?? preset?.[field] ?? null]));
  const problem = alarmLimitProblem(effective);
  return problem === null ? null : (problem.split(":")[0] as LimitField);
}

/** Empties the fields that still hold the old gas's preset values: with a new gas or unit they mean nothing (the new preset's show instead). */
export function forgetPreset(form: DeviceForm, old: AlarmPreset | undefined): void {
  if (!old) return;
  for (const field of PRESET_FIELDS) if (form[field] !== null && form[field] === old[field]) form[field] = null;
}

/** Monitor only: no alarm limits (the range and deadband stay: over-range still raises its alarm). */
export function clearLimits(form: DeviceForm): void {
  for (const field of LIMIT_FIELDS) form[field] = null;
}

/** Fills the setpoints of a gas preset (the server's POST …/alarm-preset does the same). */
export function applyPreset(form: DeviceForm, preset: AlarmPreset): void {
  form.unit = preset.unit;
  form.range_max = preset.range_max;
  form.high_limit = preset.high_limit;
  form.high_limit_2 = preset.high_limit_2;
  form.low_limit = preset.low_limit;
  form.low_limit_2 = preset.low_limit_2;
  form.deadband = preset.deadband;
}
