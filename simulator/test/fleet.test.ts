import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { Fleet, serialNumbers, type FleetOptions } from "../src/index.ts";
import { Operator, WORKER_PASSWORD, fakeClock } from "./support.ts";

// Issue 3, part 3: the fleet with chaos, on the real Mosquitto.
describe("the fleet", () => {
  const SNS = serialNumbers("FLT-", 10);
  let broker: MosquittoInstance;
  let operator: Operator;

  beforeAll(async () => {
    broker = await startMosquitto({ users: { "mcs-worker": WORKER_PASSWORD, ...Object.fromEntries(SNS.map((sn) => [sn, `pw-${sn}`])) } });
    operator = await Operator.connect(broker, "fleet-operator");
  });
  afterAll(async () => {
    await operator?.close();
    await broker?.stop();
  });

  const devices = SNS.map((sn) => ({ sn, password: `pw-${sn}` }));

  it("under outages and reboots loses no reading: every reading measured reaches the broker", async () => {
    const clock = fakeClock();
    const fleet = new Fleet(devices, {
      url: broker.url("tls"), ca: broker.ca, clock, seed: 1, intervalMs: 10_000, connectPerSecond: 1000, reconnectMaxMs: 30_000,
      chaos: { offlineRate: 4, offlineMeanS: 120, rebootRate: 2 },
    });
    const measured = new Map<string, Set<string>>(SNS.map((sn) => [sn, new Set()]));
    for (const d of fleet.detectors) d.on("reading", (r) => measured.get(d.sn)!.add(`${r.ts}/${r.seq}`));
    await fleet.start();
    for (let minute = 0; minute < 60; minute++) await clock.advance(60_000);
    const chaos = fleet.summary();
    expect(chaos.outages).toBeGreaterThan(10);
    expect(chaos.reboots).toBeGreaterThan(5);

    fleet.calm();
    await expect.poll(() => fleet.summary(), { timeout: 20_000 }).toMatchObject({ connected: 10, backlog: 0, dropped: 0 });
    for (const sn of SNS) {
      const seen = new Set(operator.readings(sn).map((r) => `${r.ts}/${r.seq}`));
      const missing = [...measured.get(sn)!].filter((key) => !seen.has(key));
      expect({ sn, missing }).toEqual({ sn, missing: [] });
    }
    await fleet.stop();
  });

  it("plays the same chaos for the same seed, and other chaos for another", async () => {
    const run = async (seed: number) => {
      const clock = fakeClock();
      const options: FleetOptions = { url: "mqtts://127.0.0.1:1", clock, seed, connectPerSecond: 1000, chaos: { offlineRate: 3, rebootRate: 3 } };
      const fleet = new Fleet(devices, options);
      const events: string[] = [];
      const t0 = clock.now();
      for (const d of fleet.detectors) d.on("state", (t) => t.to === "power_on" && events.push(`${d.sn} boots at +${(t.at - t0) / 1000} s`));
      await fleet.start();
      await clock.advance(3_600_000);
      await fleet.stop();
      return { events, outages: fleet.summary().outages };
    };
    const first = await run(1);
    expect(first.events.length).toBeGreaterThan(10 + 5);
    expect(await run(1)).toEqual(first);
    expect(await run(2)).not.toEqual(first);
  });

  it("gives each device a gas in turn and a signal seeded by the run's seed and its sn", () => {
    const a = new Fleet(devices, { url: "mqtts://127.0.0.1:1", seed: 1, gases: ["CO", "O2"] });
    const b = new Fleet([...devices].reverse(), { url: "mqtts://127.0.0.1:1", seed: 1 });
    expect(a.detectors.map((d) => d.signal.gas).slice(0, 3)).toEqual(["CO", "O2", "CO"]);
    const seedOf = (fleet: Fleet, sn: string) => fleet.detectors.find((d) => d.sn === sn)!.signal.seed;
    expect(seedOf(a, "FLT-0003")).toBe(seedOf(b, "FLT-0003"));
    expect(seedOf(a, "FLT-0003")).not.toBe(seedOf(a, "FLT-0004"));
  });
});
