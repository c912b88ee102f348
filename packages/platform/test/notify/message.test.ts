import { describe, expect, it } from "vitest";
import { formatPlantTime, renderMarkdown, renderText, renderTitle } from "../../src/notify/message.ts";
import { AT, messageOf, notice, storm } from "./fixtures.ts";

const highCo = notice();
const fault = notice({ alarmId: 102, sn: "A002", deviceName: "装卸站", type: "FAULT", level: 1, value: null, limit: null, reason: "传感器故障" });

describe("notification titles", () => {
  it("name a level-2 gas alarm, its device, gas and reading, in Chinese by default", () => {
    expect(renderTitle(messageOf([highCo]))).toBe("【二级报警】A001 储罐区 CO 45.2 ppm");
    expect(renderTitle(messageOf([notice({ level: 1, value: 25 })]))).toBe("【一级报警】A001 储罐区 CO 25 ppm");
  });

  it("are in English when asked", () => {
    expect(renderTitle(messageOf([notice({ deviceName: "Tank farm" })], "en"))).toBe("[Level 2 alarm] A001 Tank farm CO 45.2 ppm");
    expect(renderTitle(messageOf([fault], "en"))).toBe("[Fault] A002 装卸站 CO");
  });

  it("name a fault by its type, without a reading", () => {
    expect(renderTitle(messageOf([fault]))).toBe("【故障】A002 装卸站 CO");
    expect(renderTitle(messageOf([notice({ type: "OFFLINE", gas: null, level: 2, value: null })]))).toBe("【二级离线】A001 储罐区");
  });

  it("say what happened to the alarm: level up, reminder, escalation, cleared, test", () => {
    const titleOf = (kind: "level_up" | "repeat" | "escalation" | "cleared" | "test") => renderTitle(messageOf([notice({ kind })]));
    expect(titleOf("level_up")).toBe("【升级为二级报警】A001 储罐区 CO 45.2 ppm");
    expect(titleOf("repeat")).toBe("【二级报警·重复提醒（未确认）】A001 储罐区 CO 45.2 ppm");
    expect(titleOf("escalation")).toBe("【二级报警·升级通知（超时未确认）】A001 储罐区 CO 45.2 ppm");
    expect(titleOf("cleared")).toBe("【二级报警·已恢复】A001 储罐区 CO 45.2 ppm");
    expect(titleOf("test")).toBe("【测试消息】A001 储罐区 CO 45.2 ppm");
    expect(renderTitle(messageOf([notice({ kind: "escalation" })], "en"))).toBe("[Level 2 alarm · escalation (not acknowledged in time)] A001 储罐区 CO 45.2 ppm");
  });

  it("say [演示] / [Demo] for the embedded server's demo detectors alone, never when a real alarm is in the message", () => {
    const demo = notice({ sn: "DEMO-002", deviceName: "演示探测器 2", gas: "H2S", value: 18.2 });
    expect(renderTitle(messageOf([demo]))).toBe("[演示]【二级报警】DEMO-002 演示探测器 2 H2S 18.2 ppm");
    expect(renderTitle(messageOf([demo], "en"))).toBe("[Demo] [Level 2 alarm] DEMO-002 演示探测器 2 H2S 18.2 ppm");
    expect(renderTitle(messageOf([demo, { ...demo, alarmId: 7, sn: "DEMO-003", deviceName: "演示探测器 3" }]))).toBe("[演示]【报警汇总】2 台探测器报警（二级 2 条）");
    expect(renderTitle(messageOf([demo, highCo]))).toBe("【报警汇总】2 台探测器报警（二级 2 条）");
    // A demo detector a user renamed, or a device of the plant's own called DEMO-…, is taken as real.
    expect(renderTitle(messageOf([{ ...demo, deviceName: "储罐区" }]))).toBe("【二级报警】DEMO-002 储罐区 H2S 18.2 ppm");
    expect(renderText(messageOf([demo])).split("\n")[0]).toBe("[演示]【二级报警】DEMO-002 演示探测器 2 H2S 18.2 ppm");
  });

  it("sum up a group by devices and level-2 alarms", () => {
    expect(renderTitle(messageOf(storm(12)))).toBe("【报警汇总】12 台探测器报警（二级 4 条）");
    expect(renderTitle(messageOf(storm(12), "en"))).toBe("[Alarm summary] 12 detectors in alarm (4 at level 2)");
    // Two notices about one device count one detector.
    expect(renderTitle(messageOf([notice({ level: 1 }), notice({ type: "LOW_BATTERY", level: 1 })]))).toBe("【报警汇总】1 台探测器报警");
    expect(renderTitle(messageOf(storm(3).map((n) => ({ ...n, kind: "cleared" as const }))))).toBe("【恢复汇总】3 台探测器已恢复");
  });
});

describe("notification text", () => {
  it("gives one line per alarm with the Chinese type, the limit and the time in Shanghai", () => {
    expect(renderText(messageOf([highCo], "zh-CN", "https://gas.plant.cn/alarms"))).toBe(
      [
        "【二级报警】A001 储罐区 CO 45.2 ppm",
        "[二级] A001 储罐区 · CO 高限报警 45.2 ppm（限值 40 ppm） · 报警 · 2026-11-26 21:04:05 · 超过二级限值",
        "时间为北京时间（UTC+8）",
        "确认报警: https://gas.plant.cn/alarms",
      ].join("\n"),
    );
  });

  it("in English", () => {
    const text = renderText(messageOf([notice({ type: "LOW", gas: "O2", unit: "%VOL", value: 17.456, limit: 19.5, reason: "below limit" })], "en"));
    expect(text).toBe("[Level 2 alarm] A001 储罐区 O2 17.46 %VOL\n[Level 2] A001 储罐区 · O2 low alarm 17.46 %VOL (limit 19.5 %VOL) · alarm · 2026-11-26 21:04:05 · below limit\nTimes are Asia/Shanghai time (UTC+8)");
  });

  it("names a fault in Chinese and leaves out what it does not have", () => {
    expect(renderText(messageOf([fault])).split("\n")[1]).toBe("A002 装卸站 · CO 故障 · 报警 · 2026-11-26 21:04:05 · 传感器故障");
    expect(renderText(messageOf([notice({ type: "LOW_BATTERY", gas: null, deviceName: null, level: 1, value: null, limit: null, reason: "", kind: "cleared" })])).split("\n")[1]).toBe(
      "A001 · 电量低 · 已恢复 · 2026-11-26 21:04:05",
    );
  });

  it("lists 20 of a group of 50, level 2 first, then counts the rest", () => {
    const zh = renderText(messageOf(storm(50))).split("\n");
    expect(zh).toHaveLength(1 + 20 + 1 + 1);
    expect(zh[0]).toBe("【报警汇总】50 台探测器报警（二级 17 条）");
    expect(zh.slice(1, 18).every((line) => line.startsWith("[二级]"))).toBe(true);
    expect(zh[18]).toMatch(/^\[一级\] B001 /);
    expect(zh.at(-2)).toBe("… 另有 30 条");
    expect(renderText(messageOf(storm(50), "en")).split("\n").at(-2)).toBe("… and 30 more");
  });

  it("keeps a name with a line break on one line", () => {
    const text = renderText(messageOf([notice({ deviceName: "储罐区\n东侧" })]));
    expect(text.split("\n")).toHaveLength(3);
    expect(text).toContain("A001 储罐区 东侧");
  });

  it("writes times in Asia/Shanghai whatever the machine's zone", () => {
    expect(formatPlantTime(AT)).toBe("2026-11-26 21:04:05");
    expect(formatPlantTime(Date.UTC(2026, 11, 31, 16, 0, 0))).toBe("2027-01-01 00:00:00");
  });

  // Issue 15, item 4: the plant's zone is a setting; the message says which zone its times are in.
  it("writes times in the plant's zone when one is set, and names it once", () => {
    const late = notice({ kind: "late", endedAt: AT + 600_000, peak: 50, peakAt: AT + 300_000 });
    const berlin = renderText({ ...messageOf([late], "zh-CN"), timeZone: "Europe/Berlin" }).split("\n");
    expect(berlin[1]).toContain("2026-11-26 14:04:05 至 2026-11-26 14:14:05");
    expect(berlin[1]).toContain("峰值 50 ppm（2026-11-26 14:09:05）");
    expect(berlin.at(-1)).toBe("时间为 Europe/Berlin 时间（UTC+1）");
    const summer = { ...notice(), at: Date.UTC(2026, 6, 1, 12, 0, 0) };
    expect(renderText({ ...messageOf([summer], "en"), timeZone: "Europe/Berlin" }).split("\n").slice(1)).toEqual([
      "[Level 2] A001 储罐区 · CO high alarm 45.2 ppm (limit 40 ppm) · alarm · 2026-07-01 14:00:00 · 超过二级限值",
      "Times are Europe/Berlin time (UTC+2)",
    ]);
    expect(formatPlantTime(AT, "America/New_York")).toBe("2026-11-26 08:04:05");
  });

  it("falls back to Asia/Shanghai for an unknown zone, saying so, and never throws", () => {
    const text = renderText({ ...messageOf([highCo]), timeZone: "Mars/Olympus" }).split("\n");
    expect(text[1]).toContain("2026-11-26 21:04:05");
    expect(text.at(-1)).toBe("时间为北京时间（UTC+8）");
    expect(formatPlantTime(AT, "Mars/Olympus")).toBe("2026-11-26 21:04:05");
  });
});

describe("notification markdown", () => {
  it("has the title as a heading, bold level-2 marks and readings, and a link to acknowledge", () => {
    const markdown = renderMarkdown(messageOf([highCo, fault], "zh-CN", "https://gas.plant.cn/alarms"));
    expect(markdown).toBe(
      [
        "#### 【报警汇总】2 台探测器报警（二级 1 条）",
        [
          "- **[二级]** A001 储罐区 · CO 高限报警 **45.2 ppm**（限值 40 ppm） · 报警 · 2026-11-26 21:04:05 · 超过二级限值",
          "- A002 装卸站 · CO 故障 · 报警 · 2026-11-26 21:04:05 · 传感器故障",
        ].join("\n"),
        "时间为北京时间（UTC+8）",
        "[确认报警](https://gas.plant.cn/alarms)",
      ].join("\n\n"),
    );
  });

  it("counts what it does not list", () => {
    expect(renderMarkdown(messageOf(storm(50), "en"))).toContain("\n- … and 30 more");
  });
});
