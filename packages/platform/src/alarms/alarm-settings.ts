import { presetFor, type AlarmSettings } from "@mcs/core";

/** The device columns the alarm engine reads. */
export interface DeviceAlarmColumns {
  gas: string;
  unit: string;
  high_limit: number | null;
  high_limit_2: number | null;
  low_limit: number | null;
  low_limit_2: number | null;
  deadband: number;
  on_delay_samples: number;
  off_delay_samples: number;
  latching: boolean;
  low_battery_v: number | null;
  stuck_samples: number | null;
  range_max: number | null;
  monitor_only: boolean;
  monitor_reason: string | null;
}

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
