import { alarmLimitProblem, type AlarmPreset, type Device, type DeviceCreate, type DevicePatch, type UNITS } from "@mcs/protocol";

/**
 * What the add/edit dialog edits. Numbers are null while their box is empty: for a limit
 * that means "not checked"; for a required number the schema says it is missing.
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
}

/** The fields a PATCH may carry (all but sn and the note). */
const EDITABLE = [
  "name", "gas", "unit", "enabled", "report_interval_s", "k", "b", "t_comp", "t_ref", "high_limit", "high_limit_2", "low_limit",
  "low_limit_2", "deadband", "on_delay_samples", "off_delay_samples", "latching", "range_max", "low_battery_v", "stuck_samples", "calib_due",
] as const satisfies readonly (keyof DeviceForm & keyof Device)[];
const CALIBRATION = ["k", "b", "t_comp", "t_ref"] as const;

/** A new device, with the server's own defaults shown (methane in %LEL, identity calibration). */
export function newDeviceForm(): DeviceForm {
  return {
    sn: "", name: "", gas: "CH4", unit: "%LEL", enabled: true, report_interval_s: 10,
    k: 1, b: 0, t_comp: 0, t_ref: 25, calib_note: "", calib_due: null,
    high_limit: null, high_limit_2: null, low_limit: null, low_limit_2: null, deadband: 0,
    on_delay_samples: 1, off_delay_samples: 1, latching: false, range_max: null, low_battery_v: 3.5, stuck_samples: null,
  };
}

export function formOf(device: Device): DeviceForm {
  const form = newDeviceForm();
  for (const field of EDITABLE) (form as unknown as Record<string, unknown>)[field] = device[field];
  return { ...form, sn: device.sn, calib_note: "" };
}

/** A create body: every field as shown, but an empty name (the server names the device after its sn). */
export function createBody(form: DeviceForm): DeviceCreate {
  const { calib_note: _note, name, ...fields } = form;
  return (name.trim() ? { ...fields, name } : fields) as DeviceCreate;
}

/** A PATCH body: only what changed; the note goes with a calibration change. */
export function patchBody(form: DeviceForm, device: Device): DevicePatch {
  const patch: Record<string, unknown> = {};
  for (const field of EDITABLE) if (form[field] !== device[field]) patch[field] = form[field];
  const calibrationChanged = CALIBRATION.some((field) => field in patch);
  if (calibrationChanged && form.calib_note.trim()) patch.calib_note = form.calib_note.trim();
  return patch as DevicePatch;
}

export function calibrationChanged(form: DeviceForm, device: Device | null): boolean {
  return device !== null && CALIBRATION.some((field) => form[field] !== device[field]);
}

/** The fields alarmLimitProblem names. */
export type LimitField = "high_limit_2" | "low_limit_2" | "low_limit";

/** Which limit cannot work with the others, as the server checks it (its reason is English: the UI words its own). */
export function limitProblem(form: DeviceForm): LimitField | null {
  const problem = alarmLimitProblem(form);
  return problem === null ? null : (problem.split(":")[0] as LimitField);
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
