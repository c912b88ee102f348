import type { AlarmPreset, CommandView, Device, DeviceCreate, DevicePatch, TelemetryPoint } from "@mcs/protocol";
import { http } from "./http.ts";

const path = (sn: string) => `/api/devices/${encodeURIComponent(sn)}`;

export const devicesApi = {
  list: async () => (await http.get<{ data: Device[] }>("/api/devices")).data,
  get: (sn: string) => http.get<Device>(path(sn)),
  create: (body: DeviceCreate) => http.post<Device & { mqtt_password: string }>("/api/devices", body),
  update: (sn: string, patch: DevicePatch) => http.patch<Device>(path(sn), patch),
  remove: (sn: string) => http.delete(path(sn)),
  rotateCredentials: (sn: string) => http.post<{ mqtt_password: string }>(`${path(sn)}/credentials`),
  /** The last hour of readings (the server's default range), oldest first. */
  recentReadings: async (sn: string) => (await http.get<{ data: TelemetryPoint[] }>(`${path(sn)}/telemetry`)).data,
  commands: async (sn: string) => (await http.get<{ data: CommandView[] }>(`${path(sn)}/commands`)).data,
  presets: async () => (await http.get<{ data: AlarmPreset[] }>("/api/alarm-presets")).data,
};
