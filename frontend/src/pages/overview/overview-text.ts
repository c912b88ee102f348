import type { AttentionReason, DeviceLook } from "@mcs/protocol";
import { formatTime } from "../../lib/format.ts";

type Translate = (key: string, named?: Record<string, unknown>) => string;

/** One reason a detector needs attention, in words (the alarm's own detail where it has one). */
export function reasonText(t: Translate, reason: AttentionReason): string {
  const detail = reason.detail ?? "";
  switch (reason.kind) {
    case "fault":
      return detail ? t("overview.reasons.faultDetail", { detail }) : t("overview.reasons.fault");
    case "offline":
      return reason.since ? t("overview.reasons.offline", { time: formatTime(reason.since) }) : t("overview.reasons.neverSeen");
    case "low_battery":
      return detail ? t("overview.reasons.lowBatteryDetail", { detail }) : t("overview.reasons.lowBattery");
    case "calibration_overdue":
      return t("overview.reasons.calibrationOverdue", { n: -(reason.days ?? 0), date: reason.calib_due ?? "" });
    case "calibration_due":
      return reason.days === 0
        ? t("overview.reasons.calibrationDueToday", { date: reason.calib_due ?? "" })
        : t("overview.reasons.calibrationDue", { n: reason.days ?? 0, date: reason.calib_due ?? "" });
    case "not_configured":
      return detail ? t("overview.reasons.notConfiguredDetail", { detail }) : t("overview.reasons.notConfigured");
    case "disabled":
      return t("overview.reasons.disabled");
  }
}

/** How urgent a reason looks: a fault, silence or an overdue calibration in red, the rest amber. */
export function reasonTag(reason: AttentionReason): "danger" | "warning" | "info" {
  if (reason.kind === "fault" || reason.kind === "offline" || reason.kind === "calibration_overdue") return "danger";
  if (reason.kind === "disabled") return "info";
  return "warning";
}

/** The device list's status filter (`/devices?status=`) that shows the devices of a state. */
export const STATUS_FILTER: Partial<Record<DeviceLook, string>> = { alarm2: "alarm", alarm1: "alarm", fault: "fault", offline: "offline", normal: "online" };

/** "13:00" of a moment, as `formatTime` writes it (the plant's clock once it follows the plant's zone). */
export function hourLabel(iso: string): string {
  const text = formatTime(iso);
  const match = /(\d{1,2}):(\d{2})(?::\d{2})?(?!.*\d{1,2}:\d{2})/.exec(text);
  return match ? `${match[1]!.padStart(2, "0")}:${match[2]}` : text;
}
