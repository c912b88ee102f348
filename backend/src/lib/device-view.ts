import type { Device, LatestReading } from "@mcs/protocol";
import type { DeviceRecord } from "@mcs/platform";

/** The report interval devices are configured with, for now one for all. */
export const REPORT_INTERVAL_S = 30;
/** A device silent for three report intervals is offline. */
export const OFFLINE_AFTER_S = 3 * REPORT_INTERVAL_S;

/**
 * A stored device merged with its latest reading (the worker's cache entry): live
 * status, last ppm and when it was last heard of. No reading, or one older than
 * OFFLINE_AFTER_S, means offline; the last ppm and time stay visible.
 */
export function toDevice(record: DeviceRecord, latest: LatestReading | undefined, nowMs: number): Device {
  const fresh = latest !== undefined && nowMs / 1000 - latest.ts <= OFFLINE_AFTER_S;
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
    enabled: record.enabled,
    calib_version: record.calib_version,
    created_at: record.created_at,
    updated_at: record.updated_at,
    status: fresh ? latest.status : "offline",
    ppm: latest?.ppm ?? null,
    last_seen: latest ? new Date(latest.ts * 1000).toISOString() : null,
  };
}
