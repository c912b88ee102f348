import type { z } from "zod";
import type { AlarmPreset, CalibrationVersionSchema, CommandView, Device, DeviceCreate, DevicePatch, SavedDeviceSchema, TelemetryPoint } from "@mcs/protocol";
import { http } from "./http.ts";
import { upload, type UploadProgress } from "./upload.ts";

export type CalibrationVersion = z.infer<typeof CalibrationVersionSchema>;
/** A device as created or changed: which alarm fields the gas preset filled (they were left empty), and its basis. */
export type SavedDevice = z.infer<typeof SavedDeviceSchema>;

/** One row of a CSV import's report (the header is line 1); the password only for a device created now. */
export interface ImportRow {
  line: number;
  sn: string | null;
  status: "created" | "valid" | "error";
  error: string | null;
  mqtt_password: string | null;
  /** The alarm fields the row left empty, filled from the gas preset. */
  preset_applied: string[];
}
export interface ImportReport {
  created: number;
  errors: number;
  rows: ImportRow[];
}

const path = (sn: string) => `/api/devices/${encodeURIComponent(sn)}`;

export const devicesApi = {
  list: async () => (await http.get<{ data: Device[] }>("/api/devices")).data,
  get: (sn: string) => http.get<Device>(path(sn)),
  create: (body: DeviceCreate) => http.post<SavedDevice & { mqtt_password: string }>("/api/devices", body),
  update: (sn: string, patch: DevicePatch) => http.patch<SavedDevice>(path(sn), patch),
  remove: (sn: string) => http.delete(path(sn)),
  rotateCredentials: (sn: string) => http.post<{ mqtt_password: string }>(`${path(sn)}/credentials`),
  /** The last hour of readings (the server's default range), oldest first. */
  recentReadings: async (sn: string) => (await http.get<{ data: TelemetryPoint[] }>(`${path(sn)}/telemetry`)).data,
  commands: async (sn: string) => (await http.get<{ data: CommandView[] }>(`${path(sn)}/commands`)).data,
  /** Every calibration version, newest first. */
  calibrations: async (sn: string) => (await http.get<{ data: CalibrationVersion[] }>(`${path(sn)}/calibrations`)).data,
  /** Maintenance: no new alarms for `minutes` from now. */
  inhibit: (sn: string, minutes: number, reason: string) => http.post<Device>(`${path(sn)}/inhibit`, { minutes, reason }),
  endInhibit: (sn: string) => http.delete<Device>(`${path(sn)}/inhibit`),
  /** Registers the devices of a CSV file (or only checks them: `dryRun`), reported row by row; `onProgress` follows the upload. */
  importCsv: (csv: string, dryRun: boolean, onProgress?: (progress: UploadProgress) => void) =>
    upload<ImportReport>("POST", "/api/devices/import", new Blob([csv], { type: "text/csv" }), { query: { dry_run: String(dryRun) }, onProgress }),
  importTemplateUrl: "/api/devices/import/template.csv",
  presets: async () => (await http.get<{ data: AlarmPreset[] }>("/api/alarm-presets")).data,
};
