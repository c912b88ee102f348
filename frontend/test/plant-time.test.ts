import { afterEach, describe, expect, it } from "vitest";
import { formatTime } from "../src/lib/format.ts";
import { plantDateTime, plantTimeZone, plantZoneLabel, setPlantTimeZone, zoneOffsetMinutes } from "../src/lib/plant-time.ts";
import { axisTime, clockOf, pointTime, shortTime } from "../src/pages/screen/time.ts";

// Issue 15, item 4: one plant time zone, never the browser's own.
const AT = Date.UTC(2026, 11, 4, 6, 3, 5); // 2026-12-04 14:03:05 in Shanghai, 01:03:05 in New York
const ISO = new Date(AT).toISOString();

describe("the plant's clock in the browser", () => {
  afterEach(() => setPlantTimeZone("Asia/Shanghai"));

  it("is Asia/Shanghai until the setting is loaded", () => {
    expect(plantTimeZone.value).toBe("Asia/Shanghai");
    expect(formatTime(ISO)).toBe("2026-12-04 14:03:05");
  });

  it("formatTime writes YYYY-MM-DD HH:mm:ss (24 h) in the plant's zone, from ISO text or Unix seconds", () => {
    expect(formatTime(AT / 1000)).toBe("2026-12-04 14:03:05");
    expect(formatTime(Date.UTC(2026, 11, 31, 16, 0, 0) / 1000)).toBe("2027-01-01 00:00:00");
    setPlantTimeZone("America/New_York");
    expect(formatTime(ISO)).toBe("2026-12-04 01:03:05");
    expect(formatTime(null)).toBe("—");
    expect(formatTime(undefined)).toBe("—");
    expect(formatTime("not a time")).toBe("—");
  });

  it("keeps Asia/Shanghai for a zone the browser does not know", () => {
    setPlantTimeZone("Mars/Olympus");
    expect(plantTimeZone.value).toBe("Asia/Shanghai");
    setPlantTimeZone("asia/jakarta");
    expect(plantTimeZone.value).toBe("Asia/Jakarta");
    expect(plantDateTime(AT)).toBe("2026-12-04 13:03:05");
  });

  it("names the zone: 北京时间 UTC+8 in Chinese, the IANA name and offset otherwise", () => {
    expect(plantZoneLabel("zh-CN", "Asia/Shanghai", AT)).toBe("北京时间 UTC+8");
    expect(plantZoneLabel("en", "Asia/Shanghai", AT)).toBe("Asia/Shanghai (UTC+08:00)");
    expect(plantZoneLabel("en", "America/New_York", AT)).toBe("America/New_York (UTC-05:00)");
    expect(plantZoneLabel("en", "America/New_York", Date.UTC(2026, 6, 1))).toBe("America/New_York (UTC-04:00)");
    expect(plantZoneLabel("zh-CN", "Asia/Kolkata", AT)).toBe("Asia/Kolkata UTC+5:30");
    expect(zoneOffsetMinutes("Asia/Kathmandu", AT)).toBe(345);
  });

  it("the big screen's times follow the same zone", () => {
    expect(clockOf(AT, "en")).toMatchObject({ date: "2026-12-04", time: "14:03:05" });
    expect(shortTime(ISO, AT)).toBe("14:03:05");
    expect(pointTime(AT)).toBe("12-04 14:03:05");
    expect(axisTime(AT, true)).toBe("12-04 14:03");
    setPlantTimeZone("America/New_York");
    expect(clockOf(AT, "en")).toMatchObject({ date: "2026-12-04", time: "01:03:05" });
    expect(shortTime(ISO, AT)).toBe("01:03:05");
    expect(shortTime(ISO, AT + 86_400_000)).toBe("12-04 01:03:05");
    expect(axisTime(AT, false)).toBe("01:03");
  });
});
