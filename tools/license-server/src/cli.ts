import { existsSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { encodeLicenseFile, verifyLicenseFile, type License } from "@mcs/core";
import { readMachineFingerprint } from "../../../packages/platform/src/license/machine-fingerprint.ts";
import { ensureAdminToken, readAdminToken } from "./admin-token.ts";
import { buildLicenseServer } from "./app.ts";
import { ServerError } from "./errors.ts";
import { licenseFromArguments, UsageError } from "./issue.ts";
import { generateVendorKeys, KeyError, loadVendorKey } from "./keys.ts";
import { acquireStoreLock, liveStoreHolder, StoreBusyError } from "./store-lock.ts";
import { VendorLicenseStore, type LicenseView } from "./store.ts";

const USAGE = `MCS-IoT license tool (the vendor's side). Run from the repository root:

  npm run license -- keygen --dir DIR
      Makes the vendor's Ed25519 key pair: DIR/private.pem (owner only) and DIR/public.pem.
      DIR must be outside the repository. An existing key is never replaced.
  npm run license -- fingerprint
      Prints this machine's fingerprint (64 hex digits), the one a license is issued for.
  npm run license -- issue --dir DIR --fingerprint F --customer C --plant P --devices N
                           --expires YYYY-MM-DD [--features a,b] [--server URL] [--id ID] --out FILE
      Signs a license with DIR/private.pem, writes it to FILE and records it in DIR/store.
      --server is the full check address (https://host/api/check); without it, an offline license.
  npm run license -- serve --dir DIR --port N [--host H]
      Runs the license service on DIR/private.pem and DIR/store (host 127.0.0.1 unless told).
  npm run license -- revoke --dir DIR --id ID [--reason R]
      Revokes a license: its next check answers "revoked".
  npm run license -- help
`;

/** The repository this tool lives in: the private key must never be made inside it. */
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** A command that cannot be done as asked (a key or store problem, a server's refusal): exit code 1. */
class CliError extends Error {
  override name = "CliError";
}

interface Io {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: Io = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };

/** Runs one command; resolves to the exit code (`serve` resolves once it listens, and runs on). */
export async function main(argv: readonly string[], io: Io = consoleIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return 0;
      case "keygen":
        return keygen(rest, io);
      case "fingerprint":
        return fingerprint(rest, io);
      case "issue":
        return await issue(rest, io);
      case "serve":
        return await serve(rest, io);
      case "revoke":
        return await revoke(rest, io);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`license: ${error.message}\n(npm run license -- help shows the commands)`);
      return 2;
    }
    if (error instanceof CliError || error instanceof KeyError || error instanceof StoreBusyError || error instanceof ServerError) {
      io.err(`license: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function keygen(argv: readonly string[], io: Io): number {
  const { dir } = options(argv, { dir: { type: "string" } });
  const keyDir = requireDir(dir);
  const inRepo = relative(REPO_ROOT, keyDir);
  if (inRepo === "" || (!inRepo.startsWith("..") && !isAbsolute(inRepo))) {
    throw new UsageError(`--dir: ${keyDir} is inside the repository; the private key must never be there (use a folder of its own, such as ~/mcs-license)`);
  }
  const { privateFile, publicFile } = generateVendorKeys(keyDir);
  io.out(`private key: ${privateFile} (owner only: keep it off the repository, back it up offline)`);
  io.out(`public key:  ${publicFile} (ships with the product: packages/platform/src/license/vendor-public-key.pem, or MCS_LICENSE_PUBKEY)`);
  return 0;
}

function fingerprint(argv: readonly string[], io: Io): number {
  options(argv, {});
  const found = readMachineFingerprint();
  if (!found) {
    io.err("license: this machine has no machine id (/etc/machine-id or /var/lib/dbus/machine-id), so no fingerprint");
    return 1;
  }
  io.out(found.fingerprint);
  return 0;
}

async function issue(argv: readonly string[], io: Io): Promise<number> {
  const values = options(argv, {
    dir: { type: "string" }, fingerprint: { type: "string" }, customer: { type: "string" }, plant: { type: "string" },
    devices: { type: "string" }, expires: { type: "string" }, features: { type: "string" }, server: { type: "string" },
    id: { type: "string" }, out: { type: "string" },
  });
  const keyDir = requireDir(values.dir);
  const now = Date.now();
  const license = licenseFromArguments(values, now);
  if (values.out === undefined || values.out.trim() === "") throw new UsageError("--out: missing (the license file to write)");
  const out = resolve(values.out);
  if (existsSync(out)) throw new UsageError(`--out: ${out} exists; a license file is never overwritten`);
  if (!existsSync(dirname(out))) throw new UsageError(`--out: the folder ${dirname(out)} does not exist`);

  const key = loadVendorKey(keyDir);
  warnIfLoose(key, io);
  const file = encodeLicenseFile(license, key.privateKey);
  const verdict = verifyLicenseFile(file, { publicKey: key.publicKey, fingerprint: license.fingerprint, now });
  if (!verdict.ok) throw new Error(`the license just signed does not verify: ${verdict.reason}`);

  // Recorded before the file is written: a file the server does not know would be answered "unknown", and lock the plant.
  const recorded = await registerLicense(keyDir, license, file, now);
  writeFileSync(out, file, { flag: "wx", mode: 0o644 });
  io.out(`${license.id}: ${license.customer} / ${license.plant}, ${license.device_limit} devices, ${license.issued_at} through ${license.expires_at}`);
  io.out(`  machine ${license.fingerprint}; ${license.server ? `checked at ${license.server}` : "offline (never checked)"}; features ${license.features.length > 0 ? license.features.join(", ") : "all"}`);
  io.out(`  written to ${out}; recorded in ${recorded}`);
  return 0;
}

async function serve(argv: readonly string[], io: Io): Promise<number> {
  const values = options(argv, { dir: { type: "string" }, port: { type: "string" }, host: { type: "string" } });
  const keyDir = requireDir(values.dir);
  if (values.port === undefined) throw new UsageError("--port: missing");
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65_535) throw new UsageError(`--port: a port number from 0 to 65535 is needed, got ${JSON.stringify(values.port)}`);
  const host = values.host ?? "127.0.0.1";
  const key = loadVendorKey(keyDir);
  warnIfLoose(key, io);

  const storeDir = join(keyDir, "store");
  const lock = acquireStoreLock(storeDir, { kind: "serve" });
  let store: VendorLicenseStore | undefined;
  try {
    store = await VendorLicenseStore.open(storeDir);
    const token = ensureAdminToken(storeDir);
    if (token.created) io.out(`admin token (shown this once; kept in ${token.file}): ${token.token}`);
    const app = await buildLicenseServer({ store, privateKey: key.privateKey, adminToken: token.token, logger: { level: "info" } });
    const address = await app.listen({ port: Number(values.port), host }).catch((error: Error) => {
      throw new CliError(`cannot listen on ${host}:${values.port}: ${error.message}`);
    });
    const bound = app.server.address();
    const port = typeof bound === "object" && bound !== null ? bound.port : Number(values.port);
    lock.update({ kind: "serve", url: `http://${loopback(host)}:${port}` });
    io.out(`license server on ${address} (checks: POST ${address}/api/check)`);
    const opened = store;
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void app.close().then(() => opened.close()).finally(() => {
        lock.release();
        process.exit(0);
      });
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    return 0;
  } catch (error) {
    await store?.close();
    lock.release();
    throw error;
  }
}

async function revoke(argv: readonly string[], io: Io): Promise<number> {
  const values = options(argv, { dir: { type: "string" }, id: { type: "string" }, reason: { type: "string" } });
  const keyDir = requireDir(values.dir);
  const id = values.id?.trim();
  if (!id) throw new UsageError("--id: missing (the license to revoke)");
  const reason = values.reason?.trim() || null;
  if (reason !== null && reason.length > 500) throw new UsageError("--reason: at most 500 characters");
  const storeDir = join(keyDir, "store");
  if (!existsSync(storeDir)) throw new CliError(`no store in ${storeDir}: no license was issued with --dir ${keyDir}`);
  const revoked = await withStore(storeDir, {
    viaServer: (url, token) => call<LicenseView>(url, token, `/api/licenses/${encodeURIComponent(id)}/revoke`, reason === null ? {} : { reason }),
    direct: (store) => store.revoke(id, reason, Date.now()),
  });
  io.out(`${revoked.id} (${revoked.customer} / ${revoked.plant}) revoked at ${revoked.revoked_at}${revoked.revoke_reason ? `: ${revoked.revoke_reason}` : ""}`);
  return 0;
}

/** Into DIR/store (made on first use), through `serve` while it runs; where it went, for the message. */
async function registerLicense(keyDir: string, license: License, file: string, now: number): Promise<string> {
  const storeDir = join(keyDir, "store");
  const conflictMessage = `--id: license ${license.id} is on record already, with another file`;
  try {
    return await withStore(storeDir, {
      viaServer: async (url, token) => {
        await call<LicenseView>(url, token, "/api/licenses", { file });
        return `${storeDir} (through the server at ${url})`;
      },
      direct: async (store) => {
        await store.addLicense(license, file, now);
        return storeDir;
      },
    });
  } catch (error) {
    if (error instanceof ServerError && error.statusCode === 409) throw new UsageError(conflictMessage);
    throw error;
  }
}

/**
 * PGlite is one process's database: while `serve` holds the store, the CLI goes through
 * its admin API; otherwise it opens the store itself, under the lock.
 */
async function withStore<T>(storeDir: string, ways: { viaServer(url: string, token: string): Promise<T>; direct(store: VendorLicenseStore): Promise<T> }): Promise<T> {
  const holder = liveStoreHolder(storeDir);
  if (holder?.kind === "serve" && holder.url) return ways.viaServer(holder.url, readAdminToken(storeDir));
  const lock = acquireStoreLock(storeDir, { kind: "cli" });
  try {
    const store = await VendorLicenseStore.open(storeDir);
    try {
      return await ways.direct(store);
    } finally {
      await store.close();
    }
  } finally {
    lock.release();
  }
}

async function call<T>(url: string, token: string, path: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new CliError(`the running license server (${url}) does not answer: ${(error as Error).message}`);
  }
  const answer = (await response.json().catch(() => null)) as (T & { error?: { code: string; message: string } }) | null;
  if (!response.ok) {
    const code = (answer?.error?.code ?? "MCS_ERR_INTERNAL") as ServerError["code"];
    throw new ServerError(response.status, code, answer?.error?.message ?? `the license server answered ${response.status}`);
  }
  return answer as T;
}

type OptionSpec = Record<string, { type: "string" }>;

/** The command's options, strictly: an unknown option or a stray word is a usage error. */
function options<S extends OptionSpec>(argv: readonly string[], spec: S): { [K in keyof S]?: string | undefined } {
  try {
    const { values } = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false });
    return values as { [K in keyof S]?: string | undefined };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function requireDir(dir: string | undefined): string {
  if (dir === undefined || dir.trim() === "") throw new UsageError("--dir: missing (the folder of the vendor's key)");
  return resolve(dir);
}

function warnIfLoose(key: { file: string; loose: boolean }, io: Io): void {
  if (key.loose) io.err(`license: warning: ${key.file} may be read by other users (chmod 600 it)`);
}

function loopback(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`license: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
