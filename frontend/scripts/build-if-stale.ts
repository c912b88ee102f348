import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import lockfile from "proper-lockfile";

const FRONTEND = fileURLToPath(new URL("..", import.meta.url));
const REPO = join(FRONTEND, "..");
/** Where the site is built and served from. */
export const FRONTEND_DIST = join(FRONTEND, "dist");
/** What the build reads: the app, its configuration, and the shared code it bundles (the schemas; the core's analysis and the alarm engine it replays with). */
const INPUTS = ["src", "index.html", "vite.config.ts", "package.json"].map((path) => join(FRONTEND, path)).concat(join(REPO, "packages", "protocol", "src"), join(REPO, "packages", "core", "src"));

function newestChange(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/** Whether the build in `dist` is missing or older than anything it is built from. */
export function frontendStale(dist = FRONTEND_DIST): boolean {
  const built = join(dist, "index.html");
  if (!existsSync(built)) return true;
  return Math.max(...INPUTS.map(newestChange)) > statSync(built).mtimeMs;
}

/**
 * Builds the frontend (`vite build`, ~7 s) unless its build is up to date; a fresh build
 * costs a few file stats. `quiet` keeps Vite's report unless the build fails.
 *
 * Safe to call from several processes at once (the test files, `npm start` beside a test
 * run): one builds under a lock while the others wait, then find the build fresh. The build
 * goes to a folder of its own and is renamed into place whole, so nobody ever reads a
 * `dist` half written or half deleted by another build.
 */
export async function buildFrontendIfStale({ quiet = false, dist = FRONTEND_DIST } = {}): Promise<"fresh" | "built"> {
  if (!frontendStale(dist)) return "fresh";
  mkdirSync(dirname(dist), { recursive: true });
  // The lock is a folder beside `dist` (held while one process builds; the others wait for
  // it). A stale one, its holder killed, is taken over after 30 s without a heartbeat.
  const release = await lockfile.lock(dist, { realpath: false, lockfilePath: `${dist}.lock`, stale: 30_000, update: 5_000, retries: { retries: 600, factor: 1, minTimeout: 500 } });
  try {
    if (!frontendStale(dist)) return "fresh";
    const staging = `${dist}.building-${process.pid}`;
    const previous = `${dist}.old-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    try {
      await viteBuild(staging, quiet);
      if (existsSync(dist)) renameSync(dist, previous);
      renameSync(staging, dist);
      rmSync(previous, { recursive: true, force: true });
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return "built";
  } finally {
    await release();
  }
}

async function viteBuild(outDir: string, quiet: boolean): Promise<void> {
  const child = spawn("npm", ["run", "build", "-w", "frontend", "--", "--outDir", outDir, "--emptyOutDir"], { cwd: REPO, stdio: quiet ? "pipe" : "inherit" });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`the frontend build failed (exit ${code}):\n${output}`);
}

/**
 * For the tests that drive the built site: throws, naming the cause, when `frontend/dist` is
 * missing (the global set-up builds it once per run and hands over its error, if any).
 */
export function requireBuiltFrontend(buildError?: string, dist = FRONTEND_DIST): void {
  const built = join(dist, "index.html");
  if (existsSync(built)) return;
  throw new Error(`the built frontend is missing (${built})${buildError ? `: ${buildError}` : ""}`);
}

// `npm start` runs this first (`tsx frontend/scripts/build-if-stale.ts [dist]`). A failed
// build must not keep the monitoring server down: it starts with the API alone, and says
// why the admin site is missing.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const dist = process.argv[2] ? resolve(process.argv[2]) : FRONTEND_DIST;
    console.log(`frontend: ${await buildFrontendIfStale({ dist })} (${dist})`);
  } catch (error) {
    console.error(`${(error as Error).message}\nstarting without the admin site`);
  }
}
