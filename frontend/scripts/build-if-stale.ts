import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const FRONTEND = fileURLToPath(new URL("..", import.meta.url));
const REPO = join(FRONTEND, "..");
const BUILT = join(FRONTEND, "dist", "index.html");
/** What the build reads: the app, its configuration, and the shared schemas it bundles. */
const INPUTS = ["src", "index.html", "vite.config.ts", "package.json"].map((path) => join(FRONTEND, path)).concat(join(REPO, "packages", "protocol", "src"));

function newestChange(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/** Whether `frontend/dist` is missing or older than anything it is built from. */
export function frontendStale(): boolean {
  if (!existsSync(BUILT)) return true;
  return Math.max(...INPUTS.map(newestChange)) > statSync(BUILT).mtimeMs;
}

/**
 * Builds the frontend (`vite build`, ~3 s) unless its build is up to date; a fresh build
 * costs a few file stats. `quiet` keeps Vite's report unless the build fails.
 */
export async function buildFrontendIfStale({ quiet = false } = {}): Promise<"fresh" | "built"> {
  if (!frontendStale()) return "fresh";
  const child = spawn("npm", ["run", "build", "-w", "frontend"], { cwd: REPO, stdio: quiet ? "pipe" : "inherit" });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`the frontend build failed (exit ${code}):\n${output}`);
  return "built";
}

// `npm start` runs this first. A failed build must not keep the monitoring server down: it
// starts with the API alone, and says why the admin site is missing.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await buildFrontendIfStale();
  } catch (error) {
    console.error(`${(error as Error).message}\nstarting without the admin site`);
  }
}
