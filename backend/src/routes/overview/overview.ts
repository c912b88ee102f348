import { calibrationDue, dateIn, gasAlarmLevel, lookOf } from "@mcs/core";
import type { AlarmRecord, DeviceRecord } from "@mcs/platform";
import { ATTENTION_KINDS, type AlarmHour, type AttentionDevice, type AttentionReason, type Overview } from "@mcs/protocol";
import { toDevice } from "../../lib/device-view.ts";
import type { DeviceLive } from "../../plugins/app/live-state.ts";

export interface OverviewInput {
  records: DeviceRecord[];
  live: Map<string, DeviceLive>;
  /** Every open alarm (any state but closed). */
  open: AlarmRecord[];
  perHour: { hour: number; type: AlarmRecord["type"]; level: number; count: number }[];
  nowMs: number;
  /** Unix ms of the first of the 24 hours. */
  fromHourMs: number;
  /** The plant's time zone: whose date says whether a calibration is due. */
  timeZone: string;
}

const HOUR_MS = 3_600_000;
/** What the FAULT alarm of a monitor-only device says, alone: its "not configured" reason covers it. */
const NOT_CONFIGURED_FAULT = /^not configured:/;

/**
 * The overview from the stores: each device as `GET /api/devices` has it (status from the
 * workers' presence and latest reading), coloured by `lookOf` with the level of its open gas
 * alarms whose condition holds (as the big screen's feed does).
 */
export function buildOverview(input: OverviewInput): Overview {
  const { records, live, open, nowMs, timeZone } = input;
  const today = dateIn(timeZone, nowMs);
  const openBySn = new Map<string, AlarmRecord[]>();
  for (const alarm of open) openBySn.set(alarm.sn, [...(openBySn.get(alarm.sn) ?? []), alarm]);

  const counts = { total: 0, alarm2: 0, alarm1: 0, fault: 0, offline: 0, normal: 0, maintenance: 0, not_configured: 0 };
  const attention: AttentionDevice[] = [];
  for (const record of records) {
    const latest = live.get(record.sn)?.latest;
    const device = toDevice(record, live.get(record.sn), nowMs);
    const alarms = openBySn.get(record.sn) ?? [];
    const level = gasAlarmLevel(alarms.map((alarm) => ({ type: alarm.type, level: alarm.level, active: alarm.condition_active })));
    const state = lookOf(device.status, level, device.monitor_only);
    counts.total += 1;
    counts[state] += 1;
    if (device.inhibit) counts.maintenance += 1;
    if (device.monitor_only) counts.not_configured += 1;

    const reasons: AttentionReason[] = [];
    const reason = (kind: AttentionReason["kind"], more: Partial<AttentionReason> = {}) =>
      reasons.push({ kind, detail: null, since: null, calib_due: null, days: null, ...more });
    const active = (type: AlarmRecord["type"]) => alarms.find((alarm) => alarm.type === type && alarm.condition_active);

    const faultAlarm = active("FAULT");
    const batteryAlarm = active("LOW_BATTERY");
    if (faultAlarm && !(device.monitor_only && NOT_CONFIGURED_FAULT.test(faultAlarm.reason))) {
      reason("fault", { detail: faultAlarm.reason, since: faultAlarm.raised_at });
    } else if (!faultAlarm && device.status === "fault" && !batteryAlarm && !device.monitor_only) {
      // The latest reading says fault, but no alarm says why (in maintenance, or not raised yet).
      reason("fault");
    }
    if (device.status === "offline") {
      if (!device.enabled) reason("disabled", { since: device.last_seen });
      else reason("offline", { since: device.last_seen });
    }
    const lowReading = latest?.bat !== undefined && record.low_battery_v !== null && latest.bat < record.low_battery_v;
    if (batteryAlarm) reason("low_battery", { detail: batteryAlarm.reason, since: batteryAlarm.raised_at });
    else if (lowReading) reason("low_battery", { detail: `battery ${latest.bat} V < ${record.low_battery_v} V`, since: new Date(latest.ts * 1000).toISOString() });
    const calibration = calibrationDue(device.calib_due, today);
    if (calibration) reason(calibration.overdue ? "calibration_overdue" : "calibration_due", { calib_due: device.calib_due, days: calibration.days });
    if (device.monitor_only) reason("not_configured", { detail: device.monitor_reason });
    if (device.status !== "offline" && !device.enabled) reason("disabled");

    if (reasons.length === 0) continue;
    reasons.sort((a, b) => rank(a.kind) - rank(b.kind));
    attention.push({ sn: device.sn, name: device.name, gas: device.gas, state, status: device.status, last_seen: device.last_seen, inhibited: device.inhibit !== null, reasons });
  }
  attention.sort((a, b) => rank(a.reasons[0]!.kind) - rank(b.reasons[0]!.kind) || a.sn.localeCompare(b.sn));

  return { generated_at: new Date(nowMs).toISOString(), counts, attention, alarms_by_hour: hours(input.fromHourMs, input.perHour) };
}

function rank(kind: AttentionReason["kind"]): number {
  return ATTENTION_KINDS.indexOf(kind);
}

/** 24 hours from `fromMs`, each with the alarms raised in it by kind. */
function hours(fromMs: number, perHour: OverviewInput["perHour"]): AlarmHour[] {
  const list: AlarmHour[] = Array.from({ length: 24 }, (_, i) => ({ start: new Date(fromMs + i * HOUR_MS).toISOString(), gas_2: 0, gas_1: 0, fault: 0, low_battery: 0, offline: 0 }));
  for (const row of perHour) {
    const hour = list[Math.round((row.hour - fromMs) / HOUR_MS)];
    if (!hour) continue;
    if (row.type === "HIGH" || row.type === "LOW") hour[row.level >= 2 ? "gas_2" : "gas_1"] += row.count;
    else if (row.type === "FAULT") hour.fault += row.count;
    else if (row.type === "LOW_BATTERY") hour.low_battery += row.count;
    else hour.offline += row.count;
  }
  return list;
}
