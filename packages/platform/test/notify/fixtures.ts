import type { AlarmNotice, NotificationMessage, NotifyLocale } from "../../src/notify/message.ts";

/** 2026-11-26 21:04:05 in Shanghai (13:04:05 UTC). */
export const AT = Date.UTC(2026, 10, 26, 13, 4, 5);

/** A level-2 high CO alarm on A001 at the tank farm, unless told otherwise. */
export function notice(overrides: Partial<AlarmNotice> = {}): AlarmNotice {
  return {
    alarmId: 101,
    sn: "A001",
    deviceName: "储罐区",
    gas: "CO",
    unit: "ppm",
    type: "HIGH",
    level: 2,
    kind: "raised",
    value: 45.2,
    limit: 40,
    at: AT,
    reason: "超过二级限值",
    ...overrides,
  };
}

export function messageOf(notices: AlarmNotice[], locale: NotifyLocale = "zh-CN", link?: string): NotificationMessage {
  return { notices, locale, link };
}

/** An alarm storm: `count` devices, every third one at level 2. */
export function storm(count: number): AlarmNotice[] {
  return Array.from({ length: count }, (_, index) =>
    notice({ alarmId: 1000 + index, sn: `B${String(index).padStart(3, "0")}`, deviceName: `装置区${index}`, level: index % 3 === 0 ? 2 : 1, value: 30 + index }),
  );
}
