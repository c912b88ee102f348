import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "../deploy/scripts/bundle.ts";
import { freePort } from "./free-port.ts";
import { httpsRequest } from "./https.ts";
import { startMosquitto, type MosquittoInstance } from "./mosquitto.ts";
import { startNginx, type NginxInstance } from "./nginx.ts";
import { startBuiltProcess, type ProductProcess } from "./processes.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const INIT_PASSWD = join(ROOT, "deploy", "mosquitto", "init-passwd.sh");

export interface StackOptions {
  databaseUrl: string;
  redisUrl: string;
  adminPassword: string;
  logLevel?: string;
}

/** The compose stack's programs, as native processes on this machine. */
export interface Stack {
  /** The plant's address: nginx over HTTPS (https://127.0.0.1:<port>). */
  url: string;
  /** nginx's plain-HTTP port's address (it only redirects). */
  httpUrl: string;
  /** The CA to trust for `url`. */
  ca: string;
  nginx: NginxInstance;
  broker: MosquittoInstance;
  backend: ProductProcess;
  worker: ProductProcess;
  stop(): Promise<void>;
}

/**
 * What docker-compose runs, without Docker: the bundled backend and worker
 * (`node dist/*.mjs`, as the image's CMD), Mosquitto and nginx with the project's configs,
 * on the given PostgreSQL and Redis. The backend keeps Mosquitto's password file in step
 * with the devices (MOSQUITTO_PASSWORD_FILE / MOSQUITTO_PID), as in compose. Resolves once
 * /api/health answers ok through nginx.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  await bundle({ quiet: true });
  const secret = { worker: randomBytes(18).toString("base64url"), backend: randomBytes(18).toString("base64url") };
  // No accounts of the tests' own: the broker starts on what deploy/mosquitto/init-passwd.sh
  // writes, as compose's mosquitto-init does before it.
  const broker = await startMosquitto({
    users: {},
    beforeStart: ({ passwordFile, dataDir }) =>
      execFileSync("sh", [INIT_PASSWD, passwordFile], {
        env: { ...process.env, MQTT_WORKER_PASSWORD: secret.worker, MQTT_BACKEND_PASSWORD: secret.backend, MOSQUITTO_DATA_DIR: dataDir, MOSQUITTO_OWNER: `${process.getuid!()}:${process.getgid!()}` },
        stdio: "pipe",
      }),
  });
  const dataDir = mkdtempSync(join(tmpdir(), "mcs-stack-data-"));
  const backendPort = await freePort();
  const nginx = await startNginx({ backend: `127.0.0.1:${backendPort}`, site: join(ROOT, "frontend", "dist") });
  const common = { DATABASE_URL: options.databaseUrl, REDIS_URL: options.redisUrl, MQTT_CA: broker.caPath, LOG_LEVEL: options.logLevel ?? "info" };
  const backend = startBuiltProcess(join(ROOT, "dist", "backend.mjs"), {
    ...common,
    MQTT_URL: broker.url("plain", "mcs-backend", secret.backend),
    HTTP_PORT: String(backendPort),
    HTTP_HOST: "127.0.0.1",
    MCS_PUBLIC_URL: nginx.url,
    MCS_DATA_DIR: dataDir,
    MCS_ADMIN_PASSWORD: options.adminPassword,
    MOSQUITTO_PASSWORD_FILE: broker.passwordFile,
    MOSQUITTO_PID: String(broker.pid),
  });
  const worker = startBuiltProcess(join(ROOT, "dist", "worker.mjs"), { ...common, MQTT_URL: broker.url("plain", "mcs-worker", secret.worker) });
  const stack: Stack = {
    url: nginx.url,
    httpUrl: `http://127.0.0.1:${nginx.httpPort}`,
    ca: nginx.ca,
    nginx,
    broker,
    backend,
    worker,
    async stop() {
      await Promise.all([backend.stop(), worker.stop()]);
      await Promise.all([nginx.stop(), broker.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitForHealth(stack);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

/** Two processes start in seconds, but in tens of them on a 2-core machine running other suites. */
async function waitForHealth(stack: Stack, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    const answer = await httpsRequest(`${stack.url}/api/health`, { ca: stack.ca }).catch((error: Error) => ({ status: 0, body: Buffer.from(error.message) }));
    last = `${answer.status} ${answer.body.toString()}`;
    if (answer.status === 200 && (JSON.parse(answer.body.toString()) as { status: string }).status === "ok") return;
    if (stack.backend.child.exitCode !== null || stack.worker.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the stack is not healthy through nginx (${last})\nbackend: ${stack.backend.output().slice(-2000)}\nworker: ${stack.worker.output().slice(-2000)}`);
}
