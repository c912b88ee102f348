import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureCertificates, type CertificateFiles } from "../packages/platform/src/broker/certs.ts";
import { formatPasswordFile, hashMosquittoPassword } from "../packages/platform/src/broker/mosquitto-passwd.ts";
import { freePort } from "./free-port.ts";

/**
 * A throwaway Mosquitto for integration tests, running the project's own
 * `deploy/mosquitto/mosquitto.conf` and `deploy/mosquitto/acl`. The config is copied with
 * only these changes: paths under `/mosquitto/` point into a temp folder, and each
 * `listener` gets a free port bound to 127.0.0.1. Everything else (TLS 1.3, password file,
 * ACL, queue limits, persistence) is what production runs.
 *
 * Ready means Mosquitto has logged "running", which it does once every listener is open
 * (probing the TLS port instead would fill the log with half-open handshake errors).
 *
 * Run as root, Mosquitto drops privileges to the `mosquitto` user, so the temp folder is
 * handed to that user (no `user root` needed). The broker's log (stderr) goes to
 * `logPath`; set MCS_KEEP_BROKER_DIRS=1 to keep the folders after the run for debugging.
 * Callers register `stop()` in afterAll; a process-exit hook kills anything left over and
 * removes the temp folders. `stop()` keeps the folder, so `restart()` works after it too.
 */
export interface MosquittoInstance {
  host: "127.0.0.1";
  /** The TLS listener (8883 in production). */
  tlsPort: number;
  /** The internal plain listener (1883 in production), if the config has one. */
  plainPort: number | undefined;
  /** The private CA that signed the server certificate (clients pass it as `ca`). */
  caPath: string;
  ca: string;
  dir: string;
  logPath: string;
  /** `mqtts://user:pass@127.0.0.1:tlsPort` or `mqtt://…:plainPort`. */
  url(kind: "tls" | "plain", user?: string, pass?: string): string;
  /** The broker's password file (what the backend keeps in step with the devices in services mode). */
  passwordFile: string;
  /** The running broker's process id (for SIGHUP). */
  readonly pid: number;
  /** Replaces the password file and reloads it (SIGHUP); resolves once the broker has reloaded. */
  setUsers(users: Record<string, string>): Promise<void>;
  /** Clean shutdown (SIGTERM): Mosquitto saves its persistence snapshot. */
  stop(): Promise<void>;
  /** SIGKILL: no final snapshot, as in a crash. */
  kill9(): Promise<void>;
  /** Starts again (stopping first if running) on the same ports and data folder. */
  restart(): Promise<void>;
}

export interface StartMosquittoOptions {
  /** username → password; written as `$7$` hashes. */
  users: Record<string, string>;
  /** Folder for config, data, certs and log; a new temp folder if omitted. */
  dir?: string;
  /** Runs once the files are in place and before the broker first starts (what compose's `mosquitto-init` does). */
  beforeStart?: (files: { passwordFile: string; dataDir: string }) => void;
}

const MOSQUITTO = "/usr/sbin/mosquitto";
const DEPLOY_DIR = fileURLToPath(new URL("../deploy/mosquitto/", import.meta.url));
const CONTAINER_ROOT = "/mosquitto/";

const running = new Set<ChildProcess>();
const createdDirs = new Set<string>();
let exitHookInstalled = false;
let sharedCertificates: Promise<CertificateFiles> | undefined;

export async function startMosquitto(options: StartMosquittoOptions): Promise<MosquittoInstance> {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing (apt-get install -y mosquitto)`);
  installExitHook();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "mcs-mosquitto-"));
  if (!options.dir) createdDirs.add(dir);
  mkdirSync(dir, { recursive: true });

  const source = readFileSync(join(DEPLOY_DIR, "mosquitto.conf"), "utf8");
  const listeners = findListeners(source);
  const tlsListener = listeners.find((l) => l.tls);
  if (!tlsListener) throw new Error("deploy/mosquitto/mosquitto.conf has no TLS listener");
  const plainListener = listeners.find((l) => !l.tls);
  const ports = new Map<number, number>();
  const confPath = join(dir, "mosquitto.conf");
  const configure = async () => {
    for (const listener of listeners) ports.set(listener.line, await freePort());
    const rewritten = rewriteConfig(source, dir, ports);
    writeFileSync(confPath, rewritten.text);
    return rewritten.paths;
  };
  const paths = await configure();

  // Make every file the config names: the ACL from deploy/, certificates, password file, data folder.
  const certs = await certificates();
  let passwdPath: string | undefined;
  let dataDir = join(dir, "data");
  for (const { option, path, original } of paths) {
    mkdirSync(option === "persistence_location" ? path : dirname(path), { recursive: true });
    if (option === "password_file") passwdPath = path;
    else if (option === "persistence_location") dataDir = path;
    else if (option === "acl_file") copyFileSync(join(DEPLOY_DIR, original.slice(original.lastIndexOf("/") + 1)), path);
    else if (option === "certfile" || option === "keyfile" || option === "cafile") {
      const name = original.slice(original.lastIndexOf("/") + 1);
      const from = join(certs.dir, name);
      if (!existsSync(from)) throw new Error(`the config names ${original}, but the platform's certificates are ca.pem, server.pem and server-key.pem`);
      copyFileSync(from, path);
    }
  }
  if (!passwdPath) throw new Error("deploy/mosquitto/mosquitto.conf has no password_file");
  const caPath = join(dir, "certs", "ca.pem");
  mkdirSync(dirname(caPath), { recursive: true });
  copyFileSync(join(certs.dir, "ca.pem"), caPath);
  const passwd = passwdPath;
  const writeUsers = (users: Record<string, string>) => {
    writeFileSync(passwd, formatPasswordFile(Object.entries(users).map(([username, password]) => ({ username, hash: hashMosquittoPassword(password) }))), { mode: 0o600 });
    giveToMosquitto(dir);
  };
  writeUsers(options.users);
  if (options.beforeStart) {
    options.beforeStart({ passwordFile: passwd, dataDir });
    giveToMosquitto(dir);
  }

  const logPath = join(dir, "mosquitto.log");
  let child: ChildProcess | undefined;

  const launch = async () => {
    const runsBefore = count(logPath, RUNNING);
    const logFd = openSync(logPath, "a");
    const proc = spawn(MOSQUITTO, ["-c", confPath], { stdio: ["ignore", logFd, logFd] });
    closeSync(logFd);
    child = proc;
    running.add(proc);
    proc.once("exit", () => running.delete(proc));
    try {
      await waitUntilRunning(proc, runsBefore, logPath);
    } catch (error) {
      proc.kill("SIGKILL");
      throw error;
    }
  };

  const halt = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };

  // A port that was free a moment ago may have been taken since: then try other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3 || !/Address already in use/i.test(String(error))) throw error;
      await configure();
      giveToMosquitto(dir);
    }
  }
  const tlsPort = ports.get(tlsListener.line)!;
  const plainPort = plainListener ? ports.get(plainListener.line) : undefined;

  return {
    host: "127.0.0.1",
    tlsPort,
    plainPort,
    caPath,
    ca: readFileSync(caPath, "utf8"),
    dir,
    logPath,
    url(kind, user, pass) {
      const port = kind === "tls" ? tlsPort : plainPort;
      if (port === undefined) throw new Error("the config has no plain listener");
      const auth = user === undefined ? "" : `${encodeURIComponent(user)}${pass === undefined ? "" : `:${encodeURIComponent(pass)}`}@`;
      return `${kind === "tls" ? "mqtts" : "mqtt"}://${auth}127.0.0.1:${port}`;
    },
    passwordFile: passwd,
    get pid() {
      if (!child?.pid) throw new Error("mosquitto is not running");
      return child.pid;
    },
    async setUsers(users) {
      const proc = child;
      if (!proc?.pid) throw new Error("mosquitto is not running");
      const before = count(logPath, RELOADING);
      writeUsers(users);
      proc.kill("SIGHUP");
      // Mosquitto logs "Reloading config." and then reloads before it reads another packet.
      const deadline = Date.now() + 5_000;
      while (count(logPath, RELOADING) <= before) {
        if (Date.now() > deadline) throw new Error(`mosquitto did not reload after SIGHUP; see ${logPath}`);
        await sleep(10);
      }
    },
    stop: () => halt("SIGTERM"),
    kill9: () => halt("SIGKILL"),
    async restart() {
      await halt("SIGTERM");
      await launch();
    },
  };
}

interface Listener {
  /** Index of the `listener` line in the config. */
  line: number;
  tls: boolean;
}

/** The config's listeners, and whether each is TLS (a `certfile` in its section). */
function findListeners(source: string): Listener[] {
  const listeners: Listener[] = [];
  source.split("\n").forEach((raw, line) => {
    const [key] = raw.trim().split(/\s+/);
    if (key === "listener") listeners.push({ line, tls: false });
    else if (key === "certfile" && listeners.length > 0) listeners[listeners.length - 1]!.tls = true;
  });
  if (listeners.length === 0) throw new Error("deploy/mosquitto/mosquitto.conf has no listener");
  return listeners;
}

interface RewrittenPath {
  option: string;
  original: string;
  path: string;
}

/** The config with /mosquitto/ paths moved under `dir` and listeners on `ports`, 127.0.0.1; nothing else changes. */
function rewriteConfig(source: string, dir: string, ports: Map<number, number>): { text: string; paths: RewrittenPath[] } {
  const paths: RewrittenPath[] = [];
  const lines = source.split("\n").map((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return raw;
    const [option = "", ...values] = trimmed.split(/\s+/);
    if (option === "listener") return `listener ${ports.get(index)} 127.0.0.1`;
    if (!values.some((v) => v.startsWith("/"))) return raw;
    const rewritten = values.map((value) => {
      if (!value.startsWith("/")) return value;
      if (!value.startsWith(CONTAINER_ROOT)) throw new Error(`mosquitto.conf: ${option} names ${value}, outside ${CONTAINER_ROOT}; the test harness cannot relocate it`);
      const path = join(dir, value.slice(CONTAINER_ROOT.length)); // keeps a trailing "/"
      paths.push({ option, original: value, path });
      return path;
    });
    return [option, ...rewritten].join(" ");
  });
  return { text: lines.join("\n"), paths };
}

/** One CA and server certificate per test process (key generation is the slow part). */
function certificates(): Promise<CertificateFiles> {
  sharedCertificates ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "mcs-mosquitto-certs-"));
    createdDirs.add(dir);
    return ensureCertificates(dir, ["localhost"]);
  })();
  return sharedCertificates;
}

let mosquittoIds: { uid: number; gid: number } | null | undefined;

/** As root, the broker runs as `mosquitto`: it must read the config and certs and write the data folder. */
function giveToMosquitto(dir: string): void {
  if (process.getuid?.() !== 0) return;
  if (mosquittoIds === undefined) {
    try {
      mosquittoIds = {
        uid: Number(execFileSync("id", ["-u", "mosquitto"]).toString().trim()),
        gid: Number(execFileSync("id", ["-g", "mosquitto"]).toString().trim()),
      };
    } catch {
      mosquittoIds = null; // no such user: Mosquitto then stays root
    }
  }
  if (!mosquittoIds) return;
  const { uid, gid } = mosquittoIds;
  const walk = (path: string) => {
    chownSync(path, uid, gid);
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(dir);
}

/**
 * Mosquitto logs "running" once every listener is open (before that, a port may already be
 * bound but the broker not yet serving). Watching the log rather than probing the ports
 * keeps TLS handshake errors from half-open probes out of the log.
 */
async function waitUntilRunning(proc: ChildProcess, runsBefore: number, logPath: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (count(logPath, RUNNING) <= runsBefore) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`mosquitto exited (${proc.exitCode ?? proc.signalCode}) while starting:\n${tail(logPath)}`);
    }
    if (Date.now() > deadline) throw new Error(`mosquitto did not start within 10 s:\n${tail(logPath)}`);
    await sleep(10);
  }
}

const RUNNING = / version [0-9.]+ running/g;
const RELOADING = /Reloading config\./g;

function count(logPath: string, pattern: RegExp): number {
  try {
    return readFileSync(logPath, "utf8").match(pattern)?.length ?? 0;
  } catch {
    return 0;
  }
}

function tail(logPath: string): string {
  try {
    return readFileSync(logPath, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "(no log)";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Kills leftover brokers and removes the temp folders when the test process ends. Vitest
 * ends its worker processes with SIGTERM, which skips "exit" handlers, hence the signal hooks.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanUp = () => {
    for (const proc of running) proc.kill("SIGKILL");
    running.clear();
    if (!process.env.MCS_KEEP_BROKER_DIRS) for (const dir of createdDirs) rmSync(dir, { recursive: true, force: true });
    createdDirs.clear();
  };
  process.once("exit", cleanUp);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      cleanUp();
      // Then die of the signal as we would have without this hook (unless someone else handles it).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
