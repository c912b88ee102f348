import { describe, expect, it } from "vitest";
import { calibrationDue, dateIn, gasAlarmLevel, lookOf } from "../src/device-state.ts";

describe("a device's state (one definition for the screen, the device list and the overview)", () => {
  it("is offline first, then a gas alarm by its level, then a fault (a monitor-only device too), else normal", () => {
    expect(lookOf("offline", 2)).toBe("offline");
    expect(lookOf("alarm", 1)).toBe("alarm1");
    expect(lookOf("alarm", 2)).toBe("alarm2");
    // A gas alarm of unknown level is the worse one.
    expect(lookOf("alarm", undefined)).toBe("alarm2");
    expect(lookOf("online", 1)).toBe("alarm1");
    expect(lookOf("fault", 0)).toBe("fault");
    expect(lookOf("online", 0, true)).toBe("fault");
    expect(lookOf("online", 0)).toBe("normal");
  });

  it("takes the level of the open gas alarms whose condition holds, not of faults nor of gas that is gone", () => {
    expect(gasAlarmLevel([])).toBe(0);
    expect(gasAlarmLevel([{ type: "HIGH", level: 2, active: false }, { type: "FAULT", level: 2, active: true }])).toBe(0);
    expect(gasAlarmLevel([{ type: "LOW", level: 1, active: true }, { type: "HIGH", level: 2, active: true }])).toBe(2);
  });
});

describe("calibration due", () => {
  it("is overdue after the due date, due within 30 days (today included), else nothing", () => {
    expect(calibrationDue(null, "2026-03-10")).toBeNull();
    expect(calibrationDue("2026-03-09", "2026-03-10")).toEqual({ overdue: true, days: -1 });
    expect(calibrationDue("2026-03-10", "2026-03-10")).toEqual({ overdue: false, days: 0 });
    expect(calibrationDue("2026-04-09", "2026-03-10")).toEqual({ overdue: false, days: 30 });
    expect(calibrationDue("2026-04-10", "2026-03-10")).toBeNull();
  });

  it("counts by the plant's date: 07:00 in Shanghai is still the day before in UTC", () => {
    const at = Date.parse("2026-03-09T23:00:00Z");
    expect(dateIn("Asia/Shanghai", at)).toBe("2026-03-10");
    expect(dateIn("UTC", at)).toBe("2026-03-09");
  });
});
