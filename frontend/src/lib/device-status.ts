import type { Device, DeviceStatus } from "@mcs/protocol";

/**
 * The status a device is shown with. A monitor-only device (no alarm limits, by choice) is
 * never shown as online, the green of "normal": the worker gives it a "not configured" FAULT
 * with its first reading, and until then it reads as that fault, not as all-clear.
 */
export function shownStatus(device: Pick<Device, "status" | "monitor_only">): DeviceStatus {
  return device.monitor_only && device.status === "online" ? "fault" : device.status;
}
