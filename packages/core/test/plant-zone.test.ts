import { describe, expect, it } from "vitest";
import { formatZoned, isBeijingTime, isoOffset, plantZoneOr, utcOffsetLabel, wallClockToMs, ZoneClock, zoneOffsetMinutes, zonedDate } from "../src/plant-zone.ts";

// Issue 15, item 4: one plant time zone for every page, export and notification.
const AT = Date.UTC(2026, 11, 4, 6, 3, 5); // 2026-12-04 06:03:05 UTC = 14:03:05 in Shanghai

describe("the plant's clock", () => {
  it("writes a moment as the plant's wall clock, 24 h, whatever the machine's zone", () => {
    expect(formatZoned(AT, "Asia/Shanghai")).toBe("2026-12-04 14:03:05");
    expect(formatZoned(AT, "Asia/Shanghai", { withOffset: true })).toBe("2026-12-04 14:03:05 +08:00");
    expect(formatZoned(AT, "America/New_York", { withOffset: true })).toBe("2026-12-04 01:03:05 -05:00");
    expect(formatZoned(AT, "Asia/Kolkata", { withOffset: true })).toBe("2026-12-04 11:33:05 +05:30");
    expect(formatZoned(AT, "UTC", { withOffset: true })).toBe("2026-12-04 06:03:05 +00:00");
    // Midnight is 00, never 24; the day turns in the plant's zone.
    expect(formatZoned(Date.UTC(2026, 11, 31, 16, 0, 0), "Asia/Shanghai")).toBe("2027-01-01 00:00:00");
    expect(zonedDate(Date.UTC(2026, 11, 31, 16, 0, 0), "Asia/Shanghai")).toBe("2027-01-01");
  });

  it("follows daylight saving in zones that have it", () => {
    expect(zoneOffsetMinutes(Date.UTC(2026, 0, 15), "Europe/Berlin")).toBe(60);
    expect(zoneOffsetMinutes(Date.UTC(2026, 6, 15), "Europe/Berlin")).toBe(120);
    expect(formatZoned(Date.UTC(2026, 6, 15, 12), "Europe/Berlin", { withOffset: true })).toBe("2026-07-15 14:00:00 +02:00");
  });

  it("falls back to Asia/Shanghai for an unknown or unusable zone, never throwing", () => {
    expect(plantZoneOr("Mars/Olympus")).toBe("Asia/Shanghai");
    expect(plantZoneOr("+08:00")).toBe("Asia/Shanghai");
    expect(plantZoneOr(undefined)).toBe("Asia/Shanghai");
    expect(plantZoneOr(8)).toBe("Asia/Shanghai");
    expect(plantZoneOr("asia/jakarta")).toBe("Asia/Jakarta");
    expect(formatZoned(AT, "Mars/Olympus")).toBe("2026-12-04 14:03:05");
    expect(formatZoned(Number.NaN, "Asia/Shanghai")).toBe("");
  });

  it("names offsets as ISO-8601 and as people say them", () => {
    expect([480, -300, 330, 0, -570].map(isoOffset)).toEqual(["+08:00", "-05:00", "+05:30", "+00:00", "-09:30"]);
    expect([480, -300, 330, 0, 345].map(utcOffsetLabel)).toEqual(["UTC+8", "UTC-5", "UTC+5:30", "UTC", "UTC+5:45"]);
  });

  it("knows China's one clock by any of its names", () => {
    expect(["Asia/Shanghai", "PRC", "Asia/Chongqing", "asia/shanghai"].every(isBeijingTime)).toBe(true);
    expect(["Asia/Hong_Kong", "Asia/Urumqi", "UTC", "Mars/Olympus"].some(isBeijingTime)).toBe(false);
  });

  it("reads a date picker's wall-clock text as plant time", () => {
    expect(wallClockToMs("2026-12-04 14:03:05", "Asia/Shanghai")).toBe(AT);
    expect(wallClockToMs("2026-12-04T14:03", "Asia/Shanghai")).toBe(AT - 5000);
    expect(wallClockToMs("2026-07-15 14:00:00", "Europe/Berlin")).toBe(Date.UTC(2026, 6, 15, 12));
    expect(wallClockToMs("2026-01-15 14:00:00", "Europe/Berlin")).toBe(Date.UTC(2026, 0, 15, 13));
    expect(wallClockToMs("04/12/2026", "Asia/Shanghai")).toBeNaN();
  });

  it("gives the hour of the plant's day fast and right across a daylight-saving change", () => {
    const clock = new ZoneClock("Europe/Berlin");
    const start = Date.UTC(2026, 2, 29, 0, 0, 0); // 01:00 CET; clocks go forward at 01:00 UTC
    const hours = Array.from({ length: 4 }, (_, i) => clock.hourOf(start + i * 3_600_000));
    expect(hours).toEqual([1, 3, 4, 5]);
    expect(new ZoneClock().hourOf(Date.UTC(2025, 11, 13, 16))).toBe(0);
    expect(new ZoneClock("Mars/Olympus").zone).toBe("Asia/Shanghai");
  });
});
