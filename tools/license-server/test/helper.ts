import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeLicenseFile, type License } from "@mcs/core";
import type { KeyObject } from "node:crypto";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CLI = "tools/license-server/src/cli.ts";

/** A folder of its own under the system's temp dir (never in the repository), removed by `remove`. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `mcs-license-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as the vendor runs it: a process of its own, from the repository root. */
export function runCli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: REPO_ROOT, timeout: 150_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `serve` as a child process; resolves once it logs its address. */
export async function startServeCli(args: readonly string[]): Promise<{ child: ChildProcess; url: string; stdout(): string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "serve", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      const match = /license server on (http:\/\/\S+) /.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
  });
  return {
    child,
    url,
    stdout: () => stdout,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export const FINGERPRINT_A = "a".repeat(64);
export const FINGERPRINT_B = "b".repeat(64);

export function testLicense(overrides: Partial<License> = {}): License {
  return {
    id: "LIC-TEST-1", customer: "Acme Chemicals", plant: "Tank farm", device_limit: 100, features: [],
    issued_at: "2026-01-01", expires_at: "2026-12-31", fingerprint: FINGERPRINT_A, server: "https://licenses.example/api/check",
    ...overrides,
  };
}

export function issued(license: License, key: KeyObject): { license: License; file: string } {
  return { license, file: encodeLicenseFile(license, key) };
}
