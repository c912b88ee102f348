import { describe, expect, it } from "vitest";
import type { AlarmPreset, Device } from "@mcs/protocol";
import { createBody, formOf, newDeviceForm, patchBody } from "../src/pages/devices/device-form.ts";
import { shownStatus } from "../src/lib/device-status.ts";
import { applyAlarmFrame, type ScreenAlarm } from "../src/pages/screen/alarm-list.ts";
import { countDevices, lookOf, mergeDevice } from "../src/pages/screen/device-look.ts";

const CH4: AlarmPreset = { gas: "CH4", unit: "%LEL", range_max: 100, high_limit: 25, high_limit_2: 50, low_limit: null, low_limit_2: null, deadband: 2, basis: "GB/T 50493-2019: 25 / 50 %LEL" };

const device = (over: Partial<Device> = {}): Device => ({
  sn: "D1", name: "D1", gas: "CH4", unit: "%LEL", k: 1, b: 0, t_comp: 0, t_ref: 25,
  high_limit: 25, high_limit_2: 50, low_limit: null, low_limit_2: null, deadband: 2, range_max: 100,
  on_delay_samples: 1, off_delay_samples: 1, latching: false, low_battery_v: 3.5, stuck_samples: null,
  monitor_only: false, monitor_reason: null, enabled: true, calib_due: null, report_interval_s: 10,
  inhibit: null, calib_version: 1, status: "online", ppm: 3, last_seen: null, fw: null, boot: null, created_at: "", updated_at: "",
  ...over,
});

/** What the screens and the device form make of the fail-safe fields, without a browser. */
describe("fail-safe defaults and late alarms, as the frontend shows them", () => {
  it("sends no nulls for alarm fields left empty on a new device: the preset fills them", () => {
    const form = { ...newDeviceForm(), sn: "N1", high_limit: 20 };
    const body = createBody(form) as Record<string, unknown>;
    expect(body).toMatchObject({ sn: "N1", high_limit: 20, monitor_only: false });
    for (const field of ["high_limit_2", "low_limit", "low_limit_2", "range_max", "deadband", "monitor_reason"]) expect(body, field).not.toHaveProperty(field);
  });

  it("sends no limits for a monitor-only device, and its reason trimmed", () => {
    const body = createBody({ ...newDeviceForm(), sn: "M1", gas: "C2H4", monitor_only: true, monitor_reason: "  trial sensor ", high_limit: 5 }) as Record<string, unknown>;
    expect(body).toMatchObject({ monitor_only: true, monitor_reason: "trial sensor" });
    expect(body).not.toHaveProperty("high_limit");
  });

  it("patches an emptied limit as null (back to the preset), and sends what is shown with a new gas", () => {
    const stored = device();
    expect(patchBody({ ...formOf(stored), high_limit: null }, stored, CH4)).toEqual({ high_limit: null });
    expect(patchBody({ ...formOf(stored), deadband: null }, stored, { ...CH4, deadband: 3 })).toEqual({ deadband: 3 });
    expect(patchBody({ ...formOf(stored), gas: "H2S", unit: "ppm", high_limit: 25, high_limit_2: null, range_max: null, deadband: null }, stored)).toEqual({ gas: "H2S", unit: "ppm", high_limit: 25 });
    expect(patchBody({ ...formOf(stored), monitor_only: true, monitor_reason: "why", high_limit: null, high_limit_2: null }, stored)).toEqual({
      monitor_only: true, monitor_reason: "why", range_max: 100, deadband: 2,
    });
  });

  it("never shows a monitor-only device as online (green): as a fault, on the admin pages and the screen", () => {
    expect(shownStatus(device({ monitor_only: true }))).toBe("fault");
    expect(shownStatus(device({ monitor_only: true, status: "offline" }))).toBe("offline");
    expect(shownStatus(device())).toBe("online");
    expect(lookOf("online", 0, true)).toBe("fault");
    expect(lookOf("offline", 0, true)).toBe("offline");
    expect(lookOf("alarm", 2, true)).toBe("alarm2");
    const screen = mergeDevice("D1", device({ monitor_only: true, monitor_reason: "trial" }), { sn: "D1", ppm: 3, status: "online", level: 0, ts: 1 }, 0);
    expect(screen).toMatchObject({ look: "fault", monitorOnly: true, monitorReason: "trial" });
    expect(countDevices([screen])).toMatchObject({ online: 1, fault: 1 });
  });

  it("places a late alarm at its reading's time, marked late; a withdrawn episode's peak does not count", () => {
    const raised = applyAlarmFrame(new Map(), { sn: "D1", ppm: 30, type: "HIGH", id: 7, level: 1, kind: "raised", state: "unacked", at: "2026-01-01T00:00:00.000Z", late: true })!;
    expect(raised.get(7)).toMatchObject({ late: true, raised_at: "2026-01-01T00:00:00.000Z", peak: 30 });
    const withdrawn = applyAlarmFrame(raised, { sn: "D1", ppm: 90, type: "HIGH", id: 7, level: 1, kind: "withdrawn", state: "unacked", at: "2026-01-01T00:01:00.000Z", late: true })!;
    expect(withdrawn.get(7)!.peak).toBe(30);
    const episode = applyAlarmFrame(withdrawn, { sn: "D1", ppm: 45, type: "HIGH", id: 7, level: 1, kind: "late_episode", state: "unacked", at: "2026-01-01T00:02:00.000Z", late: true })!;
    expect(episode.get(7)).toMatchObject<Partial<ScreenAlarm>>({ peak: 45, late: true, raised_at: "2026-01-01T00:00:00.000Z" });
    const live = applyAlarmFrame(new Map(), { sn: "D1", ppm: 30, type: "HIGH", id: 8, level: 1, kind: "raised", state: "unacked" })!;
    expect(live.get(8)!.late).toBe(false);
  });
});
