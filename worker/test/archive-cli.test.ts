import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createPgDb, migrate, TelemetryStore, type Db } from "@mcs/platform";
import { createTestDatabase } from "../../test-support/databases.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

const REPO = resolve(import.meta.dirname, "../..");
const DAY_S = 86_400;

// `npm run archive -- run|list|restore DAY` (the script is `tsx worker/src/archive/cli.ts`),
// on PostgreSQL with no object storage set up: the archive goes to MCS_DATA_DIR/archive.
describe("npm run archive", () => {
  let url: string;
  let db: Db;
  let dataDir: string;
  const day = Math.floor((Date.now() / 1000 - 6 * DAY_S) / DAY_S) * DAY_S;
  const dayText = new Date(day * 1000).toISOString().slice(0, 10);
  const archive = (...args: string[]) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", "worker/src/archive/cli.ts", ...args], {
      cwd: REPO, env: { ...process.env, DATABASE_URL: url, MCS_DATA_DIR: dataDir, LOG_LEVEL: "warn" },
    }).then(({ stdout }) => ({ code: 0, out: stdout }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, out: `${error.stdout}${error.stderr}` }));
  const count = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM telemetry`))[0]!.n;

  beforeAllOrFail(async () => {
    url = await createTestDatabase("cli");
    db = createPgDb(url);
    await migrate(db);
    dataDir = mkdtempSync(join(tmpdir(), "mcs-archive-cli-"));
    await new TelemetryStore(db).insertBatch(Array.from({ length: 50 }, (_, i) => ({ sn: "CLI-1", ts: day + i * 60, seq: i, ppm: i, v_raw: i / 10, err: 0, flags: 0, calib_version: 1 })));
  });
  afterAll(async () => {
    await db?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs the archive, lists it, and restores the day (twice: stored once)", async () => {
    const run = await archive("run");
    expect(run).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`ok: 1 day\\(s\\) \\[${dayText}\\], 50 rows`)) });
    expect(existsSync(join(dataDir, "archive", "archive", dayText.slice(0, 4), dayText.slice(5, 7), `sensor_data_${dayText.replaceAll("-", "")}.csv.gz`))).toBe(true);
    expect(await count()).toBe(0);

    const list = await archive("list");
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/#1 ok +cli\//);
    expect(list.out).toContain(`sensor_data_${dayText.replaceAll("-", "")}.csv.gz`);

    expect(await archive("restore", dayText)).toMatchObject({ code: 0, out: expect.stringContaining(`restored ${dayText}: 50 readings in the archive, 50 stored again`) });
    expect(await archive("restore", dayText)).toMatchObject({ code: 0, out: expect.stringContaining("0 stored again") });
    expect(await count()).toBe(50);
  }, 90_000);

  it("refuses a bad command or day with the usage, and a day not archived with its reason", async () => {
    expect(await archive()).toMatchObject({ code: 2, out: expect.stringMatching(/^usage: npm run archive -- run/) });
    expect(await archive("restore", "2025-02-30")).toMatchObject({ code: 2, out: expect.stringMatching(/restore: "2025-02-30": not a day of the calendar/) });
    expect(await archive("run", "--before", "yesterday")).toMatchObject({ code: 2, out: expect.stringContaining("--before") });
    expect(await archive("restore", "2020-01-01")).toMatchObject({ code: 1, out: expect.stringMatching(/no archive for 2020-01-01/) });
    expect(await count()).toBe(50);
  }, 90_000);
});
