import { execFile } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const DEPLOY = fileURLToPath(new URL("..", import.meta.url));
const REPO = join(DEPLOY, "..");

// Issue 14: deploy/install.sh, tried on this machine, which has the docker command but no
// Docker engine (and no compose). A stub `docker` first in PATH makes that the same on any
// machine that runs the tests, also one with an engine: the test must never install.
describe("deploy/install.sh", () => {
  const dir = mkdtempSync(join(tmpdir(), "mcs-install-"));
  const copy = join(dir, "deploy");
  cpSync(DEPLOY, copy, { recursive: true, filter: (path) => !path.startsWith(join(DEPLOY, "test")) });
  writeFileSync(join(dir, "docker"), `#!/bin/sh\n[ "$1" = "--version" ] && { echo "Docker version 28.2.2"; exit 0; }\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2\nexit 1\n`);
  chmodSync(join(dir, "docker"), 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const install = (...args: string[]) =>
    promisify(execFile)("bash", [join(copy, "install.sh"), ...args], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } })
      .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }));
  const files = () => readdirSync(copy).sort();

  it("--dry-run twice prints the same checks and plan, and changes nothing", async () => {
    const before = files();
    const first = await install("--dry-run", "--url", "https://gas.plant.example");
    const second = await install("--dry-run", "--url", "https://gas.plant.example");
    expect(first.code).toBe(0);
    expect(second).toEqual(first);
    expect(first.stdout).toContain(`write ${join(copy, ".env")} from .env.example with new random secrets, MCS_PUBLIC_URL=https://gas.plant.example`);
    expect(first.stdout).toContain("make a private CA and a server certificate for gas.plant.example");
    expect(first.stdout).toMatch(/dry run: nothing was changed\.\n$/);
    expect(first.stderr).toMatch(/cannot install:\n {2}- the Docker engine does not answer/);
    expect(files()).toEqual(before);
  });

  it("signs a new server certificate with the CA already there, so that the detectors keep trusting it", async () => {
    mkdirSync(join(copy, "certs"));
    writeFileSync(join(copy, "certs", "ca.pem"), "the plant's CA\n");
    writeFileSync(join(copy, "certs", "ca-key.pem"), "its key\n");
    try {
      const plan = await install("--dry-run", "--url", "https://gas.plant.example");
      expect(plan.stdout).toContain(`sign a new server certificate for gas.plant.example with the CA kept in ${join(copy, "certs")} (the detectors keep trusting it)`);
      expect(plan.stdout).not.toContain("make a private CA");
    } finally {
      rmSync(join(copy, "certs"), { recursive: true });
    }
  });

  it("a real run without a Docker engine stops at the prerequisite check, having changed nothing", async () => {
    const before = files();
    const run = await install();
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^cannot install:\n {2}- the Docker engine does not answer: start it \(systemctl start docker\)/);
    expect(run.stderr).toMatch(/nothing was changed\.\n$/);
    expect(run.stdout).not.toContain("plan:");
    expect(files()).toEqual(before);
  });

  it("refuses an unknown argument, or a certificate without its key", async () => {
    expect(await install("--force")).toMatchObject({ code: 2, stderr: expect.stringMatching(/^unknown argument: --force/) });
    expect(await install("--cert", "/tmp/server.pem")).toMatchObject({ code: 2, stderr: expect.stringContaining("--cert and --key go together") });
  });

  it("passes shellcheck, as every shell script of the project does", async () => {
    const scripts = [join(DEPLOY, "install.sh"), join(DEPLOY, "scripts", "backup.sh"), join(DEPLOY, "scripts", "update.sh"), join(DEPLOY, "mosquitto", "init-passwd.sh"), join(REPO, ".ci", "run")];
    const { stdout } = await promisify(execFile)("shellcheck", ["--severity=style", ...scripts]).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    expect(stdout).toBe("");
  });
});
