import { DEFAULT_ALARM_SETTINGS, type AlarmSettings } from "../alarms/types.ts";
import { ArchiveFormatError, type ArchiveManifest, type ManifestDevice } from "./archive-format.ts";

const NULLABLE_NUMBERS = ["high1", "high2", "low1", "low2", "lowBatteryV", "stuckSamples", "rangeMax"] as const;

/**
 * Reads `sensor_data_YYYYMMDD.manifest.json`. Only what the analysis uses is checked; the
 * rest (checksums, calibration extras) is the restore's business.
 */
export function parseManifest(text: string, source: string): ArchiveManifest {
  const fail = (problem: string): never => {
    throw new ArchiveFormatError(source, null, problem);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(json) || json.kind !== "sensor_data") return fail('not a readings manifest (kind must be "sensor_data")');
  if (typeof json.day !== "string") fail("day is missing");
  if (!Array.isArray(json.devices)) fail("devices is missing");
  const devices = (json.devices as unknown[]).map((device, index): ManifestDevice => {
    if (!isObject(device) || typeof device.sn !== "string") return fail(`devices[${index}] has no sn`);
    return {
      sn: device.sn,
      name: typeof device.name === "string" ? device.name : null,
      gas: typeof device.gas === "string" ? device.gas : null,
      unit: typeof device.unit === "string" ? device.unit : null,
      rows: typeof device.rows === "number" ? device.rows : 0,
      settings: device.settings === null || device.settings === undefined ? null : settingsOf(device.settings, `devices[${index}].settings`, fail),
    };
  });
  return { day: json.day as string, rows: typeof json.rows === "number" ? json.rows : 0, devices };
}

function settingsOf(value: unknown, where: string, fail: (problem: string) => never): AlarmSettings {
  if (!isObject(value)) return fail(`${where} is not an object`);
  const settings: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS };
  for (const key of NULLABLE_NUMBERS) {
    const field = value[key];
    if (field === undefined) continue;
    if (field !== null && typeof field !== "number") fail(`${where}.${key} must be a number or null`);
    settings[key] = field as number | null;
  }
  for (const key of ["deadband", "onDelaySamples", "offDelaySamples"] as const) {
    const field = value[key];
    if (field === undefined) continue;
    if (typeof field !== "number") fail(`${where}.${key} must be a number`);
    settings[key] = field as number;
  }
  settings.latching = value.latching === true;
  settings.monitorOnly = typeof value.monitorOnly === "string" ? value.monitorOnly : null;
  return settings;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
