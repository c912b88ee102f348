import type { Device, DeviceStatus, RealtimeItem } from "@mcs/protocol";
import { lookOf, type Look } from "@mcs/core/device-state";

/**
 * How a device is drawn (DOMAIN.md colours): gas alarm level 2 (or a gas alarm of unknown
 * level) red with the ripple, level 1 amber, fault yellow, normal green, offline grey. One
 * definition (packages/core) for the screen, the device list and the overview.
 */
export { lookOf, type Look };

/** A device as the screen shows it: the stored one (name, unit, limits) and its live state. */
export interface ScreenDevice {
  sn: string;
  name: string;
  unit: string;
  status: DeviceStatus;
  ppm: number | null;
  level: number;
  inhibited: boolean;
  /** No alarm limits, by choice: drawn as a fault and labelled "not configured" (with why). */
  monitorOnly: boolean;
  monitorReason: string | null;
  /** Unix seconds of the reading shown, when known. */
  ts: number | null;
  look: Look;
}

export function mergeDevice(sn: string, stored: Device | undefined, live: RealtimeItem | undefined, nowMs: number): ScreenDevice {
  const status = live?.status ?? stored?.status ?? "offline";
  const level = live?.level ?? (status === "alarm" ? 2 : 0);
  const inhibitedStored = stored?.inhibit ? Date.parse(stored.inhibit.until) > nowMs : false;
  const monitorOnly = stored?.monitor_only ?? false;
  return {
    sn,
    name: stored?.name ?? sn,
    unit: stored?.unit ?? "",
    status,
    // A device never heard from has no value (the feed says 0 with no reading time).
    ppm: live && (live.ts !== undefined || live.status !== "offline") ? live.ppm : (stored?.ppm ?? null),
    level,
    inhibited: live?.inhibited ?? inhibitedStored,
    monitorOnly,
    monitorReason: stored?.monitor_reason ?? null,
    ts: live?.ts ?? (stored?.last_seen ? Math.floor(Date.parse(stored.last_seen) / 1000) : null),
    look: lookOf(status, live?.level ?? (status === "alarm" ? undefined : 0), monitorOnly),
  };
}

export interface Counts {
  total: number;
  online: number;
  offline: number;
  alarm: number;
  fault: number;
  inhibited: number;
}

/** The top bar's counts: online is every device heard from (alarm and fault ones too). */
export function countDevices(devices: Iterable<ScreenDevice>): Counts {
  const counts: Counts = { total: 0, online: 0, offline: 0, alarm: 0, fault: 0, inhibited: 0 };
  for (const device of devices) {
    counts.total += 1;
    if (device.status === "offline") counts.offline += 1;
    else counts.online += 1;
    if (device.status === "alarm") counts.alarm += 1;
    // A monitor-only device heard from counts as the fault it is shown as, even before its first "not configured" FAULT.
    if (device.status === "fault" || (device.monitorOnly && device.status === "online")) counts.fault += 1;
    if (device.inhibited) counts.inhibited += 1;
  }
  return counts;
}

/** A value as a wall screen writes it: at most 2 decimals, "—" for none. */
export function formatPpm(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1).replace(/\.0$/, "") : value.toFixed(2).replace(/\.?0+$/, "");
}
