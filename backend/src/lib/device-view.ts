import type { Device } from "@mcs/protocol";
import type { DeviceRecord } from "@mcs/platform";
import type { DeviceLive } from "../plugins/app/live-state.ts";

/**
 * A stored device merged with its live state. Whether it is online is the workers'
 * presence decision (its will, its silence for 3 report intervals, its next reading);
 * while online, the latest reading says `fault` or `alarm`. Offline, the last ppm stays
 * visible. `last_seen` is when the server last heard from it.
 */
export function toDevice(record: DeviceRecord, live: DeviceLive | undefined, nowMs: number): Device {
  const online = live?.presence.state?.online === true;
  const lastSeen = live?.presence.lastSeen;
  return {
    sn: record.sn,
    name: record.name,
    gas: record.gas,
    unit: record.unit as Device["unit"],
    k: record.k,
    b: record.b,
    t_comp: record.t_comp,
    t_ref: record.t_ref,
    high_limit: record.high_limit,
    low_limit: record.low_limit,
    high_limit_2: record.high_limit_2,
    low_limit_2: record.low_limit_2,
    deadband: record.deadband,
    on_delay_samples: record.on_delay_samples,
    off_delay_samples: record.off_delay_samples,
    latching: record.latching,
    low_battery_v: record.low_battery_v,
    stuck_samples: record.stuck_samples,
    range_max: record.range_max,
    monitor_only: record.monitor_only,
    monitor_reason: record.monitor_reason,
    inhibit:
      record.inhibit_until !== null && Date.parse(record.inhibit_until) > nowMs
        ? { until: record.inhibit_until, reason: record.inhibit_reason ?? "", by: record.inhibit_by ?? "" }
        : null,
    enabled: record.enabled,
    report_interval_s: record.report_interval_s,
    calib_version: record.calib_version,
    calib_due: record.calib_due,
    created_at: record.created_at,
    updated_at: record.updated_at,
    status: online ? (live?.latest?.status ?? "online") : "offline",
    ppm: live?.latest?.ppm ?? null,
    last_seen: lastSeen === undefined ? null : new Date(lastSeen).toISOString(),
    fw: record.fw,
    boot: record.boot,
  };
}
