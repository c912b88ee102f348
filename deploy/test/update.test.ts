import { execFile } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const DEPLOY = fileURLToPath(new URL("..", import.meta.url));

// Issue 14: deploy/scripts/update.sh's decisions, without a Docker engine (none here). A
// recording `docker` plays the stack: its database answers the schema version from a file,
// `up -d` of the new images migrates it when the test says so, and `curl` answers ok when
// the new version is healthy or once the previous images are back. backup.sh is replaced
// by one that records what it was asked; the real one is tested on PostgreSQL by backup.test.ts.
describe("deploy/scripts/update.sh", () => {
  let dir: string;
  let copy: string;
  const log = () => readFileSync(join(dir, "calls.log"), "utf8").trim().split("\n");
  const script = (name: string, body: string) => {
    writeFileSync(name, `#!/bin/sh\nS=${dir}\n${body}`);
    chmodSync(name, 0o755);
  };
  const update = (...args: string[]) =>
    promisify(execFile)("bash", [join(copy, "scripts", "update.sh"), ...args], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, MCS_HEALTH_URL: "https://localhost/api/health" } })
      .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }));
  /** The plant as the test sets it: the schema now, the one the new version migrates to, whether it comes up. */
  const plant = (state: { schema: number; newSchema: number; newHealthy: boolean }) => {
    writeFileSync(join(dir, "schema"), `${state.schema}\n`);
    writeFileSync(join(dir, "new-schema"), `${state.newSchema}\n`);
    if (state.newHealthy) writeFileSync(join(dir, "new-healthy"), "");
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "mcs-update-"));
    copy = join(dir, "deploy");
    cpSync(DEPLOY, copy, { recursive: true, filter: (path) => !path.startsWith(join(DEPLOY, "test")) });
    writeFileSync(join(copy, ".env"), "POSTGRES_PASSWORD=secret-1\n");
    writeFileSync(join(dir, "calls.log"), "");
    script(
      join(copy, "scripts", "backup.sh"),
      `if [ "$1" = --restore ]; then echo "backup --restore $2" >> $S/calls.log; exit 0; fi
[ -f $S/backup-fails ] && { echo "pg_dump: error: connection refused" >&2; exit 1; }
echo backup >> $S/calls.log; : > $S/mcs-backup-1.tar.gz; echo "wrote $S/mcs-backup-1.tar.gz (12K)"\n`,
    );
    script(
      join(dir, "docker"),
      `[ "$1 $2" = "compose version" ] && exit 0
[ "$1 $2" = "image inspect" ] && exit 0
[ "$1" = compose ] && shift 5
case "$*" in
  "exec -T timescaledb psql"*) cat $S/schema; exit 0 ;;
  "up -d") cp $S/new-schema $S/schema ;;
  "tag mcs-iot/app:previous mcs-iot/app:current") : > $S/rolled-back ;;
  "logs"*) echo "backend  | MCS_ERR_MIGRATION failed" ;;
esac
echo "docker $*" >> $S/calls.log\n`,
    );
    script(join(dir, "curl"), `if [ -f $S/new-healthy ] || [ -f $S/rolled-back ]; then echo '{"status":"ok"}'; else exit 22; fi\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("backs up, keeps the running images as :previous, builds and starts the new version, and waits for health", async () => {
    plant({ schema: 12, newSchema: 13, newHealthy: true });
    const run = await update("--timeout", "0");
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining(`updated (database schema 12 → 13); the backup from before is ${dir}/mcs-backup-1.tar.gz`) });
    expect(log()).toEqual([
      "backup",
      "docker tag mcs-iot/app:current mcs-iot/app:previous",
      "docker tag mcs-iot/nginx:current mcs-iot/nginx:previous",
      "docker build --pull",
      "docker up -d",
    ]);
  });

  it("rolls back to the previous images when the new version is not healthy, the database untouched when its schema did not change", async () => {
    plant({ schema: 12, newSchema: 12, newHealthy: false });
    const run = await update("--timeout", "0");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("the new version did not answer ok within 0 s: rolling back");
    expect(run.stderr).toContain("MCS_ERR_MIGRATION failed");
    expect(run.stderr).toContain("rolled back: the previous version runs again");
    expect(log().slice(4)).toEqual([
      "docker up -d",
      "docker logs --tail 40 backend worker",
      "docker tag mcs-iot/app:previous mcs-iot/app:current",
      "docker tag mcs-iot/nginx:previous mcs-iot/nginx:current",
      "docker up -d --no-build",
    ]);
  });

  it("restores the backup taken at the start when the failed version had already migrated the schema", async () => {
    plant({ schema: 12, newSchema: 13, newHealthy: false });
    const run = await update("--timeout", "0");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the new version changed the database schema (12 → 13): restoring ${dir}/mcs-backup-1.tar.gz`);
    expect(log().slice(-4)).toEqual([
      "docker tag mcs-iot/nginx:previous mcs-iot/nginx:current",
      "docker stop backend worker",
      `backup --restore ${dir}/mcs-backup-1.tar.gz`,
      "docker up -d --no-build",
    ]);
  });

  it("changes nothing when the backup fails, or when there is no installation", async () => {
    plant({ schema: 12, newSchema: 13, newHealthy: true });
    writeFileSync(join(dir, "backup-fails"), "");
    const run = await update();
    expect(run).toMatchObject({ code: 1, stderr: expect.stringContaining("the backup failed: nothing was changed") });
    expect(log()).toEqual([""]);

    rmSync(join(copy, ".env"));
    expect(await update()).toMatchObject({ code: 2, stderr: expect.stringContaining("this host has no installation to update (run deploy/install.sh)") });
    expect(await update("--timeout", "soon")).toMatchObject({ code: 2, stderr: expect.stringContaining("--timeout is a whole number of seconds") });
    expect(existsSync(join(dir, "rolled-back"))).toBe(false);
  });
});
