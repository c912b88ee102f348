import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadingSchema } from "@mcs/protocol";
import { DeviceStore, TelemetryStore, type Ports } from "@mcs/platform";
import { ManualSource } from "../../test-support/manual-source.ts";
import { openTestPorts } from "../../test-support/ports.ts";
import { parseMessage } from "../src/processor/parse-message.ts";
import { startWorker, type Worker } from "../src/worker.ts";

const NOW = Date.now();
const nowS = Math.floor(NOW / 1000);

/** A valid reading, or one broken in one of the ways devices break them. */
const goodReading = fc.record({
  ts: fc.integer({ min: nowS - 3 * 3600, max: nowS }),
  seq: fc.integer({ min: 0, max: 1_000_000 }),
  v_raw: fc.double({ min: -100, max: 1000, noNaN: true }),
  temp: fc.double({ min: -20, max: 60, noNaN: true }),
  humi: fc.double({ min: 0, max: 100, noNaN: true }),
  bat: fc.double({ min: 2.5, max: 4.2, noNaN: true }),
  rssi: fc.integer({ min: -120, max: -30 }),
  err: fc.constantFrom(0, 0, 0, 1, 7),
});
const brokenReading = fc.oneof(
  goodReading.map((r) => ({ ...r, v_raw: "1.2" })),
  goodReading.map(({ seq: _seq, ...r }) => r),
  goodReading.map((r) => ({ ...r, ts: r.ts * 1000 })),
  goodReading.map((r) => ({ ...r, ts: 86_400 })),
  goodReading.map((r) => ({ ...r, seq: -1 })),
  goodReading.map((r) => ({ ...r, temp: 1e300 })),
  goodReading.map((r) => ({ ...r, err: 1.5 })),
  fc.anything(),
);
const anyReading = fc.oneof({ weight: 3, arbitrary: goodReading }, { weight: 2, arbitrary: brokenReading });

/** A payload as bytes: a reading, an array of readings, JSON of any shape, or no JSON at all. */
const payload = fc.oneof(
  anyReading.map((r) => JSON.stringify(r) ?? "undefined"),
  fc.array(anyReading, { minLength: 0, maxLength: 30 }).map((a) => JSON.stringify(a)),
  fc.json(),
  fc.string(),
  goodReading.map((r) => JSON.stringify(r).replace(/"v_raw":[^,]+/, '"v_raw":1e999')),
  goodReading.map((r) => JSON.stringify(r).replace(/"temp":[^,]+/, '"temp":NaN')),
);
const bytes = fc.oneof({ weight: 5, arbitrary: payload.map((text) => Buffer.from(text)) }, fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)));

const itemCount = (buffer: Buffer): number => {
  try {
    const json: unknown = JSON.parse(buffer.toString("utf8"));
    return Array.isArray(json) ? json.length : 1;
  } catch {
    return 1;
  }
};

describe("bad input (property-based, fast-check)", () => {
  it("every item of every payload is either a valid reading or a dead letter with a reason, and parsing never throws", () => {
    fc.assert(
      fc.property(bytes, (buffer) => {
        const parsed = parseMessage("mcs/A001/up", buffer, NOW);
        if (parsed.kind === "dead") {
          expect(parsed.dead).toHaveLength(1);
          expect(parsed.dead[0]!.reason.length).toBeGreaterThan(0);
          return;
        }
        expect(parsed.kind).toBe("up");
        if (parsed.kind !== "up") return;
        expect(parsed.readings.length + parsed.dead.length).toBe(itemCount(buffer));
        for (const reading of parsed.readings) expect(ReadingSchema.safeParse(reading).success).toBe(true);
        for (const letter of parsed.dead) {
          expect(letter.reason).not.toBe("");
          expect(letter.payload).not.toContain("\u0000");
        }
      }),
      { numRuns: 5000 },
    );
  });

  describe("through the worker into PostgreSQL", () => {
    let ports: Ports;
    let worker: Worker;
    const source = new ManualSource();

    beforeAll(async () => {
      ports = await openTestPorts("services");
      await new DeviceStore(ports.db).create({ sn: "A001" }, "x", { name: "test" });
      worker = await startWorker({ ...ports, source });
    });
    afterAll(async () => {
      await worker.stop();
      await ports.close();
    });

    it("stores every good reading once and dead-letters every bad one, and the worker keeps running", async () => {
      const samples = fc.sample(bytes, { numRuns: 2000, seed: 42 });
      const expectedGood = new Set<string>();
      let expectedDead = 0;
      for (const buffer of samples) {
        const parsed = parseMessage("mcs/A001/up", buffer, Date.now());
        if (parsed.kind === "up") for (const r of parsed.readings) expectedGood.add(`${r.ts}/${r.seq}`);
        expectedDead += parsed.kind === "up" || parsed.kind === "dead" ? parsed.dead.length : 0;
      }
      await Promise.all(samples.map((buffer) => source.push("mcs/A001/up", buffer)));
      const [row] = await ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM telemetry`);
      expect(row?.n).toBe(expectedGood.size);
      expect(await new TelemetryStore(ports.db).countDeadLetters()).toBe(expectedDead);
      expect(worker.processor.stats.deadLetters).toBe(expectedDead);
      // Still alive: a good reading after all that is stored.
      await source.push("mcs/A001/up", { ts: nowS, seq: 9_999_999, v_raw: 1 });
      expect((await ports.db.query(`SELECT 1 FROM telemetry WHERE seq = 9999999`)).length).toBe(1);
    });
  });
});
