import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isWithinSchedule, validateSchedule, type NotifySchedule, type TimeWindow } from "../../src/alarms/index.ts";

/** A wall-clock time in Beijing (UTC+8, no daylight saving) as Unix ms. */
const beijing = (date: string, time: string) => Date.parse(`${date}T${time}:00+08:00`);

// January 2026: Mon 5, Fri 9, Sat 10, Sun 11.
const officeHours: TimeWindow = { days: [1, 2, 3, 4, 5], start: "08:00", end: "18:00" };
const schedule = (windows: TimeWindow[], extra: Partial<NotifySchedule> = {}): NotifySchedule => ({
  timezone: "Asia/Shanghai",
  windows,
  holidays: [],
  workdays: [],
  ...extra,
});

describe("notification schedules", () => {
  it("notify always without a schedule", () => {
    expect(isWithinSchedule(null, beijing("2026-01-10", "03:00"))).toBe(true);
  });

  it("cover a weekday window from its start up to, not including, its end", () => {
    const office = schedule([officeHours]);
    expect(isWithinSchedule(office, beijing("2026-01-05", "07:59"))).toBe(false);
    expect(isWithinSchedule(office, beijing("2026-01-05", "08:00"))).toBe(true);
    expect(isWithinSchedule(office, beijing("2026-01-09", "17:59"))).toBe(true);
    expect(isWithinSchedule(office, beijing("2026-01-09", "18:00"))).toBe(false);
    expect(isWithinSchedule(office, beijing("2026-01-10", "10:00"))).toBe(false);
  });

  it("read the clock of the schedule's time zone: Monday 08:00 in Beijing is Monday 00:00 UTC", () => {
    const at = beijing("2026-01-05", "08:00");
    expect(isWithinSchedule(schedule([officeHours]), at)).toBe(true);
    expect(isWithinSchedule(schedule([officeHours], { timezone: "UTC" }), at)).toBe(false);
  });

  it("default to Asia/Shanghai when no time zone is given", () => {
    const { timezone: _, ...withoutZone } = schedule([officeHours]);
    expect(isWithinSchedule(withoutZone as NotifySchedule, beijing("2026-01-05", "08:00"))).toBe(true);
  });

  it("follow daylight saving time in zones that have it", () => {
    const berlin = schedule([officeHours], { timezone: "Europe/Berlin" });
    expect(isWithinSchedule(berlin, Date.parse("2026-01-05T07:00:00Z"))).toBe(true); // 08:00 CET
    expect(isWithinSchedule(berlin, Date.parse("2026-07-06T06:00:00Z"))).toBe(true); // 08:00 CEST
    expect(isWithinSchedule(berlin, Date.parse("2026-07-06T05:59:00Z"))).toBe(false);
  });

  describe("a window crossing midnight (Fri 22:00–06:00)", () => {
    const night = schedule([{ days: [5], start: "22:00", end: "06:00" }]);

    it("covers Friday 22:00 to Saturday 06:00, the day it starts", () => {
      expect(isWithinSchedule(night, beijing("2026-01-09", "21:59"))).toBe(false);
      expect(isWithinSchedule(night, beijing("2026-01-09", "22:00"))).toBe(true);
      expect(isWithinSchedule(night, beijing("2026-01-10", "00:00"))).toBe(true);
      expect(isWithinSchedule(night, beijing("2026-01-10", "05:59"))).toBe(true);
      expect(isWithinSchedule(night, beijing("2026-01-10", "06:00"))).toBe(false);
    });

    it("does not cover Friday morning (Thursday's night) or Saturday night", () => {
      expect(isWithinSchedule(night, beijing("2026-01-09", "05:00"))).toBe(false);
      expect(isWithinSchedule(night, beijing("2026-01-10", "23:00"))).toBe(false);
    });

    it("is removed whole by a holiday on the Friday it starts, and untouched by one on Saturday", () => {
      const friday = { ...night, holidays: ["2026-01-09"] };
      expect(isWithinSchedule(friday, beijing("2026-01-09", "23:00"))).toBe(false);
      expect(isWithinSchedule(friday, beijing("2026-01-10", "03:00"))).toBe(false);
      expect(isWithinSchedule({ ...night, holidays: ["2026-01-10"] }, beijing("2026-01-10", "03:00"))).toBe(true);
    });
  });

  it("accept 24:00 as the end of the day", () => {
    const evening = schedule([{ days: [1], start: "20:00", end: "24:00" }]);
    expect(isWithinSchedule(evening, beijing("2026-01-05", "23:59"))).toBe(true);
    expect(isWithinSchedule(evening, beijing("2026-01-06", "00:00"))).toBe(false);
    const always = schedule([{ days: [1, 2, 3, 4, 5, 6, 7], start: "00:00", end: "24:00" }]);
    fc.assert(fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (at) => isWithinSchedule(always, at)));
  });

  it("have no window on a holiday", () => {
    expect(isWithinSchedule(schedule([officeHours], { holidays: ["2026-01-05"] }), beijing("2026-01-05", "10:00"))).toBe(false);
    expect(isWithinSchedule(schedule([officeHours], { holidays: ["2026-01-05"] }), beijing("2026-01-06", "10:00"))).toBe(true);
  });

  it("treat a make-up working day (调休) as a Monday", () => {
    const weekend: TimeWindow = { days: [6, 7], start: "09:00", end: "17:00" };
    const sunday = beijing("2026-01-11", "10:00");
    expect(isWithinSchedule(schedule([officeHours, weekend]), sunday)).toBe(true);
    expect(isWithinSchedule(schedule([officeHours]), sunday)).toBe(false);
    expect(isWithinSchedule(schedule([officeHours], { workdays: ["2026-01-11"] }), sunday)).toBe(true);
    expect(isWithinSchedule(schedule([weekend], { workdays: ["2026-01-11"] }), sunday)).toBe(false);
    expect(isWithinSchedule(schedule([{ days: [2], start: "08:00", end: "18:00" }], { workdays: ["2026-01-11"] }), sunday)).toBe(false);
  });

  it("never silence notifications because a schedule is broken", () => {
    const broken = schedule([officeHours], { timezone: "Mars/Olympus" });
    expect(isWithinSchedule(broken, beijing("2026-01-10", "03:00"))).toBe(true);
    expect(isWithinSchedule(schedule([officeHours]), Number.NaN)).toBe(true);
  });

  it("with no window at all, never fall within", () => {
    expect(isWithinSchedule(schedule([]), beijing("2026-01-05", "10:00"))).toBe(false);
  });
});

describe("validateSchedule", () => {
  it("accepts a valid schedule, with or without time zone, holidays and workdays", () => {
    expect(validateSchedule(schedule([officeHours, { days: [5], start: "22:00", end: "06:00" }], { holidays: ["2026-10-01"], workdays: ["2026-09-27"] }))).toBeNull();
    expect(validateSchedule({ windows: [officeHours] })).toBeNull();
    expect(validateSchedule(schedule([{ days: [7], start: "00:00", end: "24:00" }]))).toBeNull();
  });

  it.each<[string, unknown, RegExp]>([
    ["not an object", "office hours", /^schedule must be an object/],
    ["an unknown time zone", { ...schedule([]), timezone: "Mars/Olympus" }, /^timezone: "Mars\/Olympus"/],
    ["an empty time zone", { ...schedule([]), timezone: "" }, /^timezone: ""/],
    ["windows not a list", { ...schedule([]), windows: "8-18" }, /^windows must be a list/],
    ["a window that is not an object", schedule([officeHours, null as unknown as TimeWindow]), /^windows\[1\] must be an object/],
    ["no days", schedule([{ ...officeHours, days: [] }]), /^windows\[0\]\.days must be a non-empty list/],
    ["a day 0", schedule([{ ...officeHours, days: [1, 0] }]), /^windows\[0\]\.days\[1\]: 0 is not a weekday/],
    ["a day 8", schedule([{ ...officeHours, days: [8] }]), /^windows\[0\]\.days\[0\]: 8/],
    ["a start without leading zero", schedule([{ ...officeHours, start: "8:00" }]), /^windows\[0\]\.start: "8:00"/],
    ["a start at 24:00", schedule([{ ...officeHours, start: "24:00" }]), /^windows\[0\]\.start/],
    ["an end at 25:00", schedule([{ ...officeHours, end: "25:00" }]), /^windows\[0\]\.end: "25:00"/],
    ["an end equal to the start", schedule([{ ...officeHours, end: "08:00" }]), /^windows\[0\]\.end: equals start/],
    ["a 30 February holiday", schedule([], { holidays: ["2026-02-30"] }), /^holidays\[0\]: "2026-02-30" is not a date/],
    ["a slashed workday", schedule([], { workdays: ["2026-01-01", "2026/01/11"] }), /^workdays\[1\]: "2026\/01\/11"/],
    ["holidays not a list", { ...schedule([]), holidays: "2026-10-01" }, /^holidays must be a list/],
    ["a day both holiday and workday", schedule([], { holidays: ["2026-10-01"], workdays: ["2026-10-01"] }), /^workdays\[0\]: 2026-10-01 is also in holidays/],
  ])("names the bad field: %s", (_, input, message) => {
    expect(validateSchedule(input)).toMatch(message);
  });
});
