import { describe, expect, it } from "vitest";
import { safeAlarmFields } from "../../src/alarms/index.ts";

describe("fail-safe alarm fields: no detector left unguarded by omission", () => {
  it("fills every field not given from the preset of the gas, and says which", () => {
    expect(safeAlarmFields({ gas: "CH4", unit: "%LEL" })).toEqual({
      ok: true,
      fields: { high_limit: 25, high_limit_2: 50, low_limit: null, low_limit_2: null, range_max: 100, deadband: 2 },
      applied: ["high_limit", "high_limit_2", "range_max", "deadband"],
      basis: "GB/T 50493-2019: 25 / 50 %LEL",
    });
  });

  it("keeps what was given and fills only the rest; null counts as not given", () => {
    const safe = safeAlarmFields({ gas: "co", unit: "ppm", high_limit: 20, high_limit_2: null, deadband: 0 });
    expect(safe).toMatchObject({ ok: true, fields: { high_limit: 20, high_limit_2: 34, range_max: 1000, deadband: 0 }, applied: ["high_limit_2", "range_max"] });
  });

  it("gives oxygen its low and high alarm, and no level 2", () => {
    expect(safeAlarmFields({ gas: "O2", unit: "%VOL" })).toMatchObject({ ok: true, fields: { high_limit: 23.5, high_limit_2: null, low_limit: 19.5, low_limit_2: null, range_max: 25 } });
  });

  it("takes no preset in another unit (CH4 in ppm is not 25 %LEL): the limits must be given", () => {
    const safe = safeAlarmFields({ gas: "CH4", unit: "ppm" });
    expect(safe).toEqual({
      ok: false,
      fields: ["high_limit", "low_limit", "range_max"],
      message: "high_limit: there is no alarm preset for CH4 in ppm; give high_limit or low_limit and range_max (or choose monitor_only with a reason)",
    });
  });

  it("refuses a gas without a preset until its limits and range are given, then derives the deadband (2 % of full scale)", () => {
    expect(safeAlarmFields({ gas: "C2H4", unit: "%LEL", high_limit: 20 })).toMatchObject({ ok: false, fields: ["range_max"], message: expect.stringMatching(/^range_max: .* give range_max/) });
    expect(safeAlarmFields({ gas: "C2H4", unit: "%LEL", high_limit: 20, high_limit_2: 40, range_max: 100 })).toMatchObject({
      ok: true, fields: { high_limit: 20, high_limit_2: 40, range_max: 100, deadband: 2 }, applied: ["deadband"],
    });
  });

  it("allows no limits only as monitor only, with a reason, and keeps the preset's range to see saturation", () => {
    expect(safeAlarmFields({ gas: "CH4", unit: "%LEL", monitor_only: true })).toMatchObject({ ok: false, fields: ["monitor_reason"] });
    expect(safeAlarmFields({ gas: "CH4", unit: "%LEL", monitor_only: true, monitor_reason: "  " })).toMatchObject({ ok: false, fields: ["monitor_reason"] });
    expect(safeAlarmFields({ gas: "CH4", unit: "%LEL", monitor_only: true, monitor_reason: "trial sensor", high_limit: 25 })).toMatchObject({
      ok: false, fields: ["monitor_only", "high_limit"],
    });
    expect(safeAlarmFields({ gas: "CH4", unit: "%LEL", monitor_only: true, monitor_reason: "trial sensor" })).toEqual({
      ok: true,
      fields: { high_limit: null, high_limit_2: null, low_limit: null, low_limit_2: null, range_max: 100, deadband: 0 },
      applied: ["range_max", "deadband"],
      basis: "GB/T 50493-2019: 25 / 50 %LEL",
    });
  });
});
