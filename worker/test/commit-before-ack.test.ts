import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgDb, DeviceStore, MemoryBus, MemoryCache, migrate, type Db } from "@mcs/platform";
import { ManualSource } from "../../test-support/manual-source.ts";
import { startPostgres, type PostgresInstance } from "../../test-support/postgres.ts";
import { startWorker, type Worker } from "../src/worker.ts";

// Design "Reliability model": a QoS 1 message is acknowledged only after its batch is
// committed; PostgreSQL down for a while loses nothing.
describe("acknowledging after the commit (real PostgreSQL)", () => {
  let pg: PostgresInstance;
  let db: Db;
  let worker: Worker;
  const source = new ManualSource();
  const reading = (seq: number) => ({ ts: Math.floor(Date.now() / 1000), seq, v_raw: seq });
  const count = async () => Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM telemetry`))[0]?.n);

  beforeAll(async () => {
    pg = await startPostgres();
    db = createPgDb(pg.url, { max: 4 });
    await migrate(db);
    await new DeviceStore(db).create({ sn: "A001" }, "x", { name: "test" });
    worker = await startWorker({ db, cache: new MemoryCache(), bus: new MemoryBus(), source });
  });
  afterAll(async () => {
    await worker.stop().catch(() => {});
    await db.close();
    pg.stop();
  });

  it("does not acknowledge a message while its commit is blocked", async () => {
    const blocker = createPgDb(pg.url, { max: 1 });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const locked = new Promise<void>((ready) => {
      void blocker.transaction(async (tx) => {
        await tx.query(`LOCK TABLE telemetry IN ACCESS EXCLUSIVE MODE`);
        ready();
        await released;
      });
    });
    await locked;
    let acked = false;
    const pushed = source.push("mcs/A001/up", reading(1)).then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(acked).toBe(false);
    release();
    await pushed;
    expect(await count()).toBe(1);
    await blocker.close();
  });

  it("holds messages while PostgreSQL is down and stores all of them once it is back", async () => {
    // The test server runs with synchronous_commit=off, so an immediate stop can lose the
    // last commits before it (the earlier test's row): make them durable first.
    await db.query("CHECKPOINT");
    pg.pause();
    let acked = 0;
    const pushes = Array.from({ length: 200 }, (_, i) => source.push("mcs/A001/up", reading(100 + i)).then(() => acked++));
    await new Promise((r) => setTimeout(r, 1500));
    expect(acked).toBe(0);
    expect(worker.processor.stats.failedCommits).toBeGreaterThan(0);
    pg.resume();
    await Promise.all(pushes);
    expect(acked).toBe(200);
    expect(await count()).toBe(201);
  });
});
