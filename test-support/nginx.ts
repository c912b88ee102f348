import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureCertificates } from "../packages/platform/src/broker/certs.ts";
import { freePort, waitForPort } from "./free-port.ts";

/** Debian's nginx lives in /usr/sbin, which not every user's PATH has. */
export const NGINX = existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
export const NGINX_CONF = fileURLToPath(new URL("../deploy/nginx/nginx.conf", import.meta.url));

export interface LocalPlaces {
  /** Holds certs/server.pem, certs/server-key.pem and logs/. */
  dir: string;
  /** host:port of the backend (the container's `backend:8080`). */
  backend: string;
  httpPort: number;
  httpsPort: number;
  /** The built site (the image's /usr/share/nginx/html). */
  site: string;
}

/**
 * The project's nginx.conf with only what names the container's world moved: the backend's
 * address, the certificates', logs' and site's folders, and the two ports (on 127.0.0.1).
 * A line that is no longer there fails loudly, so the tests never run a config that has
 * drifted from production's.
 */
export function localNginxConfig(places: LocalPlaces): string {
  const moves: [string, string][] = [
    ["/etc/nginx/certs/", `${join(places.dir, "certs")}/`],
    ["/var/log/nginx/", `${join(places.dir, "logs")}/`],
    ["http://backend:8080", `http://${places.backend}`],
    ["/usr/share/nginx/html", places.site],
    ["listen 80;", `listen 127.0.0.1:${places.httpPort};`],
    ["listen 443 ssl;", `listen 127.0.0.1:${places.httpsPort} ssl;`],
  ];
  let conf = readFileSync(NGINX_CONF, "utf8");
  for (const [from, to] of moves) {
    if (!conf.includes(from)) throw new Error(`deploy/nginx/nginx.conf no longer has "${from}": update test-support/nginx.ts`);
    conf = conf.replaceAll(from, to);
  }
  return conf;
}

/** Command-line arguments that keep nginx's pid and error log in `dir`. */
export function nginxArgs(dir: string, ...extra: string[]): string[] {
  return ["-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf"), "-g", `pid ${join(dir, "nginx.pid")};${extra.join("")}`];
}

export interface NginxInstance {
  httpPort: number;
  httpsPort: number;
  /** https://127.0.0.1:<port> (the server certificate names localhost and 127.0.0.1; IPv4 only, as nginx listens). */
  url: string;
  /** The private CA that signed the server certificate. */
  ca: string;
  dir: string;
  /** The master process (its workers are its children). */
  readonly pid: number;
  stop(): Promise<void>;
}

/** Debian's nginx running the project's config in front of `backend` (host:port), serving `site`. */
export async function startNginx(options: { backend: string; site: string }): Promise<NginxInstance> {
  const dir = mkdtempSync(join(tmpdir(), "mcs-nginx-"));
  mkdirSync(join(dir, "logs"));
  const certs = await ensureCertificates(join(dir, "certs"), ["localhost"]);
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, "nginx.conf"), localNginxConfig({ dir, backend: options.backend, httpPort, httpsPort, site: options.site }));
  const child: ChildProcess = spawn(NGINX, nginxArgs(dir, " daemon off;"), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await Promise.race([waitForPort(httpsPort), exited.then(() => { throw new Error(`nginx exited: ${stderr}`); })]);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    httpPort,
    httpsPort,
    url: `https://127.0.0.1:${httpsPort}`,
    ca: certs.ca,
    dir,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGQUIT"); // graceful: finish requests
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
