import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ANOMALY_LIMIT, calibrate } from "../src/calibrate.ts";

const params = { k: 2, b: 1, t_comp: 0.5, t_ref: 25 };

describe("calibrate (plan 2.2: ppm = k × v_raw + b + t_comp × (temp − t_ref))", () => {
  it("applies the formula: k=2, b=1, t_comp=0.5, t_ref=25, v_raw=100, temp=30 gives 203.5", () => {
    expect(calibrate(params, 100, 30)).toEqual({ ppm: 203.5, flags: [], mask: 0 });
  });

  it("compensates below the reference temperature too", () => {
    expect(calibrate(params, 100, 20).ppm).toBe(198.5);
  });

  it("uses no temperature compensation when the reading has no temperature", () => {
    expect(calibrate(params, 100).ppm).toBe(201);
  });

  it("stores a result below 0 as 0 and flags it negative", () => {
    expect(calibrate({ k: 1, b: -5, t_comp: 0, t_ref: 25 }, 1, 25)).toEqual({ ppm: 0, flags: ["negative"], mask: 2 });
  });

  it("keeps exactly 0 and exactly 50 000 unflagged", () => {
    expect(calibrate({ k: 1, b: 0, t_comp: 0, t_ref: 25 }, 0).flags).toEqual([]);
    expect(calibrate({ k: 1, b: 0, t_comp: 0, t_ref: 25 }, ANOMALY_LIMIT).flags).toEqual([]);
  });

  it("keeps a result above 50 000 and flags it anomaly", () => {
    expect(calibrate({ k: 1, b: 0, t_comp: 0, t_ref: 25 }, 50_000.5)).toEqual({ ppm: 50_000.5, flags: ["anomaly"], mask: 1 });
  });

  it("never returns a negative or non-finite value for finite inputs", () => {
    const n = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    fc.assert(
      fc.property(n, n, n, n, n, fc.option(n, { nil: undefined }), (k, b, t_comp, t_ref, v, temp) => {
        const { ppm, flags } = calibrate({ k, b, t_comp, t_ref }, v, temp);
        expect(Number.isFinite(ppm)).toBe(true);
        expect(ppm).toBeGreaterThanOrEqual(0);
        expect(flags.includes("anomaly")).toBe(ppm > ANOMALY_LIMIT);
      }),
    );
  });
});
