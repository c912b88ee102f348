import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ENTRY_POINTS } from "../scripts/bundle.ts";

// No Docker engine here: the compose file is checked statically against the files it
// mounts and the programs it runs; the same Mosquitto config runs for real in the tests.
const read = (path: string) => readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), "utf8");
interface Service { image?: string; volumes?: string[]; environment?: Record<string, string>; ports?: string[]; command?: string[]; healthcheck?: unknown; depends_on?: unknown; restart?: string; mem_limit?: string }
const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, Service> };
const mosquittoConf = read("mosquitto/mosquitto.conf");
const acl = read("mosquitto/acl");
/** The one-shot that runs before the broker; every other service runs for good. */
const ONE_SHOT = "mosquitto-init";
const longRunning = Object.entries(compose.services).filter(([name]) => name !== ONE_SHOT);

describe("deploy/docker-compose.yml", () => {
  it("mounts every file and folder the project's mosquitto.conf names", () => {
    const mounts = (compose.services.mosquitto?.volumes ?? []).map((v) => v.split(":")[1]!);
    const paths = [...mosquittoConf.matchAll(/^\s*(?:password_file|acl_file|certfile|keyfile|cafile|persistence_location)\s+(\S+)/gm)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThanOrEqual(5);
    for (const path of paths) expect(mounts.some((mount) => path === mount || path.startsWith(mount.endsWith("/") ? mount : `${mount}/`)), path).toBe(true);
  });

  it("publishes only the TLS port of the broker; the plain listener stays inside", () => {
    expect(compose.services.mosquitto?.ports).toEqual(["8883:8883"]);
    expect(mosquittoConf).toMatch(/^listener 8883/m);
  });

  it("logs the worker and the backend in with the accounts the ACL knows", () => {
    expect(compose.services.worker?.environment?.MQTT_URL).toMatch(/^mqtt:\/\/mcs-worker:/);
    expect(compose.services.backend?.environment?.MQTT_URL).toMatch(/^mqtt:\/\/mcs-backend:/);
    expect(acl).toMatch(/^user mcs-worker$/m);
    expect(acl).toMatch(/^user mcs-backend$/m);
  });

  it("runs the worker and the backend as the built JavaScript the image holds", () => {
    for (const name of ["worker", "backend"]) {
      const service = compose.services[name]!;
      expect(service.command!.slice(0, 2)).toEqual(["node", "--enable-source-maps"]);
      expect(Object.keys(ENTRY_POINTS).map((entry) => `dist/${entry}.mjs`)).toContain(service.command![2]);
      expect(Object.keys(service.environment!)).toEqual(expect.arrayContaining(["DATABASE_URL", "REDIS_URL", "MQTT_URL"]));
    }
  });

  it("publishes only 80, 443 and 8883 to the host", () => {
    const published = Object.values(compose.services).flatMap((service) => service.ports ?? []);
    expect(published.sort()).toEqual(["443:443", "80:80", "8883:8883"]);
  });

  it("checks the health of every service but the worker, and starts each after what it needs", () => {
    const unchecked = longRunning.filter(([, service]) => !service.healthcheck).map(([name]) => name);
    // The worker has no port to ask; Docker restarts it when it exits (the file says why).
    expect(unchecked).toEqual(["worker"]);
    expect(compose.services.worker?.depends_on).toMatchObject({ timescaledb: { condition: "service_healthy" }, redis: { condition: "service_healthy" }, mosquitto: { condition: "service_healthy" } });
    expect(compose.services.nginx?.depends_on).toMatchObject({ backend: { condition: "service_healthy" } });
    for (const [, service] of longRunning) expect(service.restart).toBe("unless-stopped");
    expect(compose.services.mosquitto?.depends_on).toMatchObject({ [ONE_SHOT]: { condition: "service_completed_successfully" } });
  });

  it("writes the platform's broker accounts before the broker starts, from deploy/.env", () => {
    const init = compose.services[ONE_SHOT]!;
    expect(init.restart).toBe("no");
    expect(init.environment).toEqual({ MQTT_WORKER_PASSWORD: expect.stringMatching(/^\$\{MQTT_WORKER_PASSWORD:\?/), MQTT_BACKEND_PASSWORD: expect.stringMatching(/^\$\{MQTT_BACKEND_PASSWORD:\?/) });
    // The same volume the broker reads the password file from and the backend rewrites it in.
    const authVolume = (service: Service) => service.volumes?.find((volume) => volume.endsWith(":/mosquitto/auth"));
    expect(authVolume(init)).toBe("mosquitto-auth:/mosquitto/auth");
    expect(authVolume(compose.services.mosquitto!)).toBe("mosquitto-auth:/mosquitto/auth");
    expect(authVolume(compose.services.backend!)).toBe("mosquitto-auth:/mosquitto/auth");
    expect(init.volumes).toContain("./mosquitto/init-passwd.sh:/init-passwd.sh:ro");
  });

  it("limits memory to well under the plan's 2 GB server", () => {
    const mb = (limit: string) => Number(/^(\d+)m$/.exec(limit)![1]);
    // The one-shot init has exited before the others start: its limit does not add up.
    const limits = longRunning.map(([, service]) => mb(service.mem_limit!));
    expect(limits).toHaveLength(6);
    expect(limits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1600);
  });

  it("pins every image to a release (never latest) and mounts the host's machine id read-only", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.image, name).toMatch(/:[^:]+$/);
      expect(service.image, name).not.toMatch(/:latest|:\d+(-alpine)?$/);
    }
    for (const name of ["worker", "backend"]) expect(compose.services[name]?.volumes).toContain("/etc/machine-id:/etc/machine-id:ro");
  });

  it("keeps every secret out of the file (taken from deploy/.env)", () => {
    for (const service of Object.values(compose.services)) {
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|SECRET|_URL/.test(name)) expect(value.includes("${") || !/:[^/@]+@/.test(value), name).toBe(true);
        // A *_FILE variable names where a file lives, not a secret.
        if (/PASSWORD/.test(name) && !name.endsWith("_FILE")) expect(value, name).toMatch(/^\$\{/);
      }
    }
  });

  it("builds an image that installs every workspace of the monorepo", () => {
    const dockerfile = read("Dockerfile");
    const workspaces = JSON.parse(read("../package.json")).workspaces as string[];
    for (const workspace of workspaces) expect(dockerfile).toContain(`COPY ${workspace}/package.json`);
  });
});

// Issue 14: the file as Compose itself reads it (Debian's docker-compose; no engine needed).
describe("docker-compose config", () => {
  it("accepts the compose file with an .env made from .env.example, and names the project mcs-iot", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcs-compose-"));
    const env = join(dir, ".env");
    writeFileSync(env, read(".env.example").replace(/^(POSTGRES_PASSWORD|MQTT_WORKER_PASSWORD|MQTT_BACKEND_PASSWORD)=$/gm, "$1=not-a-real-secret").replace(/^MCS_PUBLIC_URL=$/m, "MCS_PUBLIC_URL=https://gas.plant.example"));
    try {
      const config = await new Promise<string>((resolve, reject) =>
        execFile("docker-compose", ["-f", fileURLToPath(new URL("../docker-compose.yml", import.meta.url)), "--env-file", env, "config"], (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout))),
      );
      const parsed = parse(config) as { services: Record<string, Service> };
      expect(Object.keys(parsed.services).sort()).toEqual(["backend", "mosquitto", "mosquitto-init", "nginx", "redis", "timescaledb", "worker"]);
      expect(parsed.services.worker?.environment?.MQTT_URL).toBe("mqtt://mcs-worker:not-a-real-secret@mosquitto:1883");
      expect(read(".env.example")).toMatch(/^COMPOSE_PROJECT_NAME=mcs-iot$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
