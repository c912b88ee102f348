import { describe, expect, it } from "vitest";
import { parseManifest } from "../../src/analysis/index.ts";

/** docs/archive.md, "sensor_data_YYYYMMDD.manifest.json". */
describe("the manifest reader", () => {
  const manifest = {
    schema: 1, kind: "sensor_data", day: "2025-12-13", key: "archive/2025/12/sensor_data_20251213.csv.gz", rows: 8640, device_count: 2,
    devices: [
      { sn: "A001", name: "反应釜 1", gas: "CH4", unit: "%LEL", rows: 8640, calib_versions: [[0, 0, 1]], device_times: [],
        settings: { high1: 20, high2: 50, low1: null, low2: null, deadband: 2, onDelaySamples: 1, offDelaySamples: 1, latching: false, lowBatteryV: 3.5, stuckSamples: null, rangeMax: 100, monitorOnly: null } },
      { sn: "GONE", name: null, gas: null, unit: null, rows: 0, settings: null },
    ],
    sha256: "ab", bytes: 1, raw_bytes: 2, created_at: "2025-12-17T02:00:41.000Z",
  };

  it("reads each device's settings and ignores what the analysis does not use", () => {
    const read = parseManifest(JSON.stringify(manifest), "m.json");
    expect(read.day).toBe("2025-12-13");
    expect(read.devices[0]).toEqual({ sn: "A001", name: "反应釜 1", gas: "CH4", unit: "%LEL", rows: 8640, settings: { ...manifest.devices[0]!.settings } });
    expect(read.devices[1]).toEqual({ sn: "GONE", name: null, gas: null, unit: null, rows: 0, settings: null });
  });

  it("refuses what is not a readings manifest, saying why", () => {
    expect(() => parseManifest("{", "m.json")).toThrow(/^m\.json: not JSON/);
    expect(() => parseManifest(JSON.stringify({ ...manifest, kind: "alarms" }), "m.json")).toThrow('m.json: not a readings manifest (kind must be "sensor_data")');
    const bad = { ...manifest, devices: [{ ...manifest.devices[0], settings: { high1: "twenty" } }] };
    expect(() => parseManifest(JSON.stringify(bad), "m.json")).toThrow("m.json: devices[0].settings.high1 must be a number or null");
  });
});
