import { describe, expect, it } from "vitest";
import { implausibleTimestamp } from "../src/reading-time.ts";

const now = Date.UTC(2026, 10, 26) ;

describe("reading timestamps", () => {
  it("accept now, a 3-hour backlog and a clock a minute fast", () => {
    for (const ts of [now / 1000, now / 1000 - 3 * 3600, now / 1000 + 60]) expect(implausibleTimestamp(ts, now)).toBeNull();
  });
  it("refuse the epoch's early days, milliseconds sent as seconds, and far futures", () => {
    expect(implausibleTimestamp(1, now)).toMatch(/30 days old/);
    expect(implausibleTimestamp(now, now)).toMatch(/future/);
    expect(implausibleTimestamp(now / 1000 + 7200, now)).toMatch(/future/);
  });
});
