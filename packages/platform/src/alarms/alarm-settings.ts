import { presetFor, type AlarmSettings } from "@mcs/core";
import type { DeviceRecord } from "../stores/device-store.ts";

/** The device columns the alarm engine reads. */
export type DeviceAlarmColumns = Pick<
  DeviceRecord,
  | "gas" | "unit" | "high_limit" | "high_limit_2" | "low_limit" | "low_limit_2" | "deadband" | "on_delay_samples" | "off_delay_samples"
  | "latching" | "low_battery_v" | "stuck_samples" | "range_max" | "monitor_only" | "monitor_reason"
>;

/**
 * A device's alarm settings as the engine reads them. Over range is judged with the preset's
 * full scale when the device has none of its own: a reading above what the sensor type can
 * measure is never taken as normal.
 */
export function alarmSettingsOf(device: DeviceAlarmColumns): AlarmSettings {
  return {
    high1: device.high_limit, high2: device.high_limit_2, low1: device.low_limit, low2: device.low_limit_2,
    deadband: device.deadband, onDelaySamples: device.on_delay_samples, offDelaySamples: device.off_delay_samples,
    latching: device.latching, lowBatteryV: device.low_battery_v, stuckSamples: device.stuck_samples,
    rangeMax: device.range_max ?? presetFor(device.gas, device.unit)?.rangeMax ?? null,
    monitorOnly: device.monitor_only ? (device.monitor_reason ?? "no reason given") : null,
  };
}
