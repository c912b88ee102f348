import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createPgDb, DeviceStore, migrate, TelemetryStore, type Db } from "@mcs/platform";
import { createTestDatabase } from "../../test-support/databases.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

const DEPLOY = fileURLToPath(new URL("..", import.meta.url));

// Issue 14: deploy/scripts/backup.sh and --restore on a real PostgreSQL (DATABASE_URL: the
// same pg_dump -Fc and pg_restore the compose stack runs in its database container).
describe("deploy/scripts/backup.sh", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcs-backup-"));
  const deploy = join(dir, "deploy");
  const backups = join(dir, "backups");
  let url: string;
  let db: Db;
  const backup = (...args: string[]) =>
    promisify(execFile)("bash", [join(deploy, "scripts", "backup.sh"), ...args], { env: { ...process.env, DATABASE_URL: url, MOSQUITTO_PASSWORD_FILE: join(dir, "passwd") } })
      .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }));
  /** Every row of the tables a plant cannot lose, as text: equal means every row came back. */
  const snapshot = async () => {
    const tables = ["devices", "calibration_versions", "telemetry", "users", "audit_log", "alarms", "settings"];
    const out: Record<string, string[]> = {};
    for (const table of tables) out[table] = (await db.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t ORDER BY 1`)).map((r) => r.row);
    return out;
  };

  beforeAllOrFail(async () => {
    cpSync(DEPLOY, deploy, { recursive: true, filter: (path) => !path.startsWith(join(DEPLOY, "test")) });
    writeFileSync(join(deploy, ".env"), "POSTGRES_PASSWORD=secret-1\n");
    mkdirSync(join(deploy, "certs"));
    writeFileSync(join(deploy, "certs", "ca.pem"), "the plant's CA\n");
    writeFileSync(join(dir, "passwd"), "A001:$7$hash\n");
    url = await createTestDatabase("backup");
    db = createPgDb(url);
    await migrate(db);
    const devices = new DeviceStore(db);
    for (const sn of ["B-1", "B-2"]) await devices.create({ sn, name: `泵房 ${sn}`, gas: "H2S", unit: "ppm" }, "hash", { name: "admin" });
    const now = Math.floor(Date.now() / 1000);
    await new TelemetryStore(db).insertBatch(Array.from({ length: 500 }, (_, i) => ({ sn: i % 2 ? "B-1" : "B-2", ts: now - i * 10, seq: i, ppm: i / 7, v_raw: i / 100, err: 0, flags: 0, calib_version: 1 })));
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("backs up the database and the files, and --restore brings back every row", async () => {
    const before = await snapshot();
    expect(before.telemetry).toHaveLength(500);
    const made = await backup("--dir", backups);
    expect(made).toMatchObject({ code: 0, stdout: expect.stringMatching(/^wrote .*mcs-backup-\d{8}T\d{6}Z\.tar\.gz/) });
    const [file] = readdirSync(backups);

    // A bad day: rows lost, a device changed, a file gone.
    await db.query(`DELETE FROM telemetry WHERE seq < 300`);
    await db.query(`UPDATE devices SET name = 'changed' WHERE sn = 'B-1'`);
    rmSync(join(deploy, "certs"), { recursive: true });
    writeFileSync(join(deploy, ".env"), "POSTGRES_PASSWORD=another\n");

    const restored = await backup("--restore", join(backups, file!));
    expect(restored.stderr).toBe("");
    expect(restored).toMatchObject({ code: 0, stdout: expect.stringContaining(`restored ${join(backups, file!)}`) });
    expect(await snapshot()).toEqual(before);
    expect(readFileSync(join(deploy, ".env"), "utf8")).toBe("POSTGRES_PASSWORD=secret-1\n");
    expect(readFileSync(join(deploy, ".env.before-restore"), "utf8")).toBe("POSTGRES_PASSWORD=another\n");
    expect(readFileSync(join(deploy, "certs", "ca.pem"), "utf8")).toBe("the plant's CA\n");
    // The database it replaced is kept, in case the wrong backup was chosen.
    const kept = createPgDb(`${url}_before_restore`);
    try {
      expect(await kept.query(`SELECT count(*)::int AS n FROM telemetry`)).toEqual([{ n: 200 }]);
    } finally {
      await kept.close();
    }
  }, 60_000);

  it("leaves the live database as it was when a backup's dump cannot be restored", async () => {
    // A dump PostgreSQL itself cannot load: a CHECK that its rows no longer pass.
    const brokenUrl = await createTestDatabase("broken");
    const broken = createPgDb(brokenUrl);
    await broken.query(`CREATE FUNCTION allowed() RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true'`);
    await broken.query(`CREATE TABLE t (x int CHECK (allowed()))`);
    await broken.query(`INSERT INTO t VALUES (1)`);
    await broken.query(`CREATE OR REPLACE FUNCTION allowed() RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT false'`);
    await broken.close();
    const staging = join(dir, "broken");
    mkdirSync(join(staging, "files"), { recursive: true });
    await promisify(execFile)("pg_dump", ["-Fc", "--no-owner", "-f", join(staging, "database.dump"), brokenUrl]);
    await promisify(execFile)("tar", ["-czf", join(dir, "broken.tar.gz"), "-C", staging, "database.dump", "files"]);

    const before = await snapshot();
    const failed = await backup("--restore", join(dir, "broken.tar.gz"));
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining("the restore failed: the database") });
    expect(failed.stderr).toContain("new row for relation \"t\" violates check constraint");
    expect(await snapshot()).toEqual(before);
    const name = url.slice(url.lastIndexOf("/") + 1);
    expect(await db.query(`SELECT datname FROM pg_database WHERE datname = $1`, [`${name}_restore`])).toEqual([]);
  }, 60_000);

  it("keeps the newest --keep backups", async () => {
    const rotated = join(dir, "rotated");
    for (let i = 0; i < 3; i++) {
      expect((await backup("--dir", rotated, "--keep", "2")).code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    expect(readdirSync(rotated)).toHaveLength(2);
  }, 60_000);

  it("refuses a file that is not its backup, and leaves the database as it is", async () => {
    const before = await snapshot();
    const junk = join(dir, "junk.tar.gz");
    writeFileSync(junk, "not a backup");
    expect(await backup("--restore", junk)).toMatchObject({ code: 2, stderr: expect.stringContaining("is not a backup of this tool") });
    expect(await backup("--restore", join(dir, "missing.tar.gz"))).toMatchObject({ code: 2, stderr: expect.stringContaining("no backup file") });
    expect(await backup("--keep", "0")).toMatchObject({ code: 2, stderr: expect.stringContaining("--keep is a whole number") });
    expect(await snapshot()).toEqual(before);
  }, 60_000);
});
