import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";

export interface PostgresInstance {
  port: number;
  /** URL of the maintenance database (`postgres`). */
  url: string;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  /** Stops the server but keeps its data (the database "goes down"). */
  pause(): void;
  /** Starts it again on the same port and data. */
  resume(): void;
  stop(): void;
}

function binDir(): string {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) throw new Error("PostgreSQL is not installed (apt-get install -y postgresql)");
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  if (!version) throw new Error(`no PostgreSQL version under ${root}`);
  return join(root, version, "bin");
}

/**
 * A throwaway PostgreSQL server on a free port, initialised in a temp folder. initdb refuses
 * to run as root, so as root the server runs as the `postgres` user. `settings` (`name=value`)
 * come last and win, e.g. the compose file's tuning for a measurement of production.
 */
export async function startPostgres(options: { settings?: string[] } = {}): Promise<PostgresInstance> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), "mcs-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const pw = execFileSync("id", ["-u", "postgres"]).toString().trim();
    const gid = execFileSync("id", ["-g", "postgres"]).toString().trim();
    chownSync(dir, Number(pw), Number(gid));
  }
  const run = (cmd: string, args: string[]) => {
    const full = asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]] as const : [join(bin, cmd), args] as const;
    const result = spawnSync(full[0], [...full[1]], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr || result.stdout}`);
  };
  const port = await freePort();
  run("initdb", ["-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]);
  const start = () => run("pg_ctl", [
    "-D", join(dir, "data"), "-l", join(dir, "pg.log"), "-w",
    "-o", `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c max_connections=200${(options.settings ?? []).map((setting) => ` -c ${setting}`).join("")}`,
    "start",
  ]);
  start();
  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url: urlFor("postgres"),
    urlFor,
    pause: () => run("pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]),
    resume: start,
    stop() {
      try { run("pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]); } catch { /* already down */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
