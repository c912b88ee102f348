import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { frontendStale } from "../scripts/build-if-stale.ts";

/** A browser test file as the suite writes them, run by vitest of its own in `dir`. */
const CHECK = (dist: string) => `
import { expect, it } from "vitest";
import { requireBuiltFrontend } from "${REPO}frontend/scripts/build-if-stale.ts";
import { beforeAllOrFail } from "${REPO}test-support/suite-setup.ts";
beforeAllOrFail(async () => requireBuiltFrontend("vite ran out of memory", ${JSON.stringify(dist)}));
it("shows the login page", () => expect(1).toBe(1));
it("shows the devices", () => expect(1).toBe(1));
`;

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

/** What `npm start` runs before the server: the builder, as its own process. */
async function buildInProcess(dist: string): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "frontend/scripts/build-if-stale.ts", dist], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/**
 * Several processes building the frontend at once (the browser test files, `npm start`
 * beside a test run) on a clean clone: one builds, the others wait and find it fresh, and
 * the result is one whole site. A build of its own folder, so the run's `frontend/dist`
 * that other files serve is not touched.
 */
describe("building the frontend from several processes at once", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcs-build-"));
  const dist = join(dir, "dist");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("builds once, leaves a whole site with its compressed twins, and no staging folder behind", async () => {
    const outputs = await Promise.all([buildInProcess(dist), buildInProcess(dist), buildInProcess(dist)]);
    const results = outputs.map((output) => /frontend: (built|fresh)/.exec(output)?.[1]).sort();
    expect(results).toEqual(["built", "fresh", "fresh"]);

    // Every script and style the page names is there, each big one with its .br and .gz.
    const index = readFileSync(join(dist, "index.html"), "utf8");
    const named = [...index.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(named.length).toBeGreaterThan(1);
    for (const asset of named) expect(existsSync(join(dist, asset)), asset).toBe(true);
    const scripts = readdirSync(join(dist, "assets")).filter((name) => name.endsWith(".js"));
    const big = scripts.filter((name) => readFileSync(join(dist, "assets", name)).length >= 1024);
    expect(big.length).toBeGreaterThan(0);
    for (const name of big) expect([existsSync(join(dist, "assets", `${name}.br`)), existsSync(join(dist, "assets", `${name}.gz`))], name).toEqual([true, true]);
    expect(readdirSync(dir).sort()).toEqual(["dist"]);
    expect(frontendStale(dist)).toBe(false);
  }, 180_000);

  it("replaces an older build whole: no file of it is left", async () => {
    writeFileSync(join(dist, "assets", "left-from-an-older-build.js"), "old");
    // An input newer than the build makes it stale.
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(join(dist, "index.html"), old, old);
    expect(frontendStale(dist)).toBe(true);
    expect(await buildInProcess(dist)).toContain("frontend: built");
    expect(existsSync(join(dist, "assets", "left-from-an-older-build.js"))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["dist"]);
  }, 180_000);
});

describe("a browser test without the built site", () => {
  mkdirSync(join(REPO, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(REPO, ".tmp", "site-check-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("fails every test with the reason (the build's error), none skipped", async () => {
    writeFileSync(join(dir, "vitest.config.ts"), `export default { test: { include: ["*.check.ts"] } };`);
    writeFileSync(join(dir, "site.check.ts"), CHECK(join(dir, "no-dist")));
    const report = join(dir, "report.json");
    await run(process.execPath, [join(REPO, "node_modules/vitest/vitest.mjs"), "run", "--root", dir, "--reporter=json", `--outputFile=${report}`], { cwd: dir }).catch(() => undefined);
    const { testResults } = JSON.parse(readFileSync(report, "utf8")) as { testResults: { assertionResults: { status: string; failureMessages: string[] }[] }[] };
    const tests = testResults.flatMap((file) => file.assertionResults);
    expect(tests.map((test) => test.status)).toEqual(["failed", "failed"]);
    for (const test of tests) {
      expect(test.failureMessages.join("\n")).toContain(`the built frontend is missing (${join(dir, "no-dist", "index.html")}): vite ran out of memory`);
    }
  }, 60_000);
});
