import { createHash } from "node:crypto";
import { request } from "node:https";

/** The `params` of an `ota` command. */
export interface OtaParams {
  url: string;
  version: string;
  size: number;
  sha256: string;
}

/** Checks an `ota` command's params; answers the params or why they are refused. */
export function parseOtaParams(params: Record<string, unknown>): OtaParams | string {
  const { url, version, size, sha256 } = params;
  if (typeof url !== "string" || !url.startsWith("https://")) return "params.url must be an https:// URL";
  if (typeof version !== "string" || !/^[A-Za-z0-9._+-]{1,32}$/.test(version)) return "params.version must be 1–32 characters of [A-Za-z0-9._+-]";
  if (typeof size !== "number" || !Number.isInteger(size) || size <= 0 || size > 64 * 1024 * 1024) return "params.size must be a positive integer of at most 64 MiB";
  if (typeof sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha256)) return "params.sha256 must be 64 hex digits";
  return { url, version, size, sha256: sha256.toLowerCase() };
}

export type OtaResult = { ok: true } | { ok: false; reason: string };

/**
 * Downloads a firmware image over HTTPS, trusting only `ca`, and checks it the way the
 * bootloader would before switching partitions: exactly `size` bytes, SHA-256 equal to
 * `sha256`. Never throws; a refused image answers why. The image itself is not kept (the
 * emulator has nothing to run), only its verdict.
 */
export function downloadFirmware(params: OtaParams, options: { ca?: string | Buffer | undefined; timeoutMs?: number; signal?: AbortSignal }): Promise<OtaResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: OtaResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const fail = (reason: string) => finish({ ok: false, reason });
    let req: ReturnType<typeof request>;
    try {
      req = request(params.url, { method: "GET", ca: options.ca, rejectUnauthorized: true, timeout: options.timeoutMs ?? 60_000, signal: options.signal });
    } catch (error) {
      fail(`download failed: ${message(error)}`);
      return;
    }
    req.on("timeout", () => req.destroy(new Error("timed out")));
    let responded = false;
    req.on("error", (error) => fail(`${responded ? "download interrupted" : "download failed"}: ${message(error)}`));
    req.on("response", (res) => {
      responded = true;
      if (res.statusCode !== 200) {
        res.resume();
        fail(`download failed: HTTP ${res.statusCode}`);
        return;
      }
      const announced = res.headers["content-length"];
      if (announced !== undefined && Number(announced) !== params.size) {
        res.destroy();
        fail(`size mismatch: the server announces ${announced} bytes, the command ${params.size}`);
        return;
      }
      const hash = createHash("sha256");
      let received = 0;
      res.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > params.size) {
          res.destroy();
          fail(`size mismatch: more than the ${params.size} bytes announced`);
          return;
        }
        hash.update(chunk);
      });
      res.on("aborted", () => fail(`download interrupted after ${received} of ${params.size} bytes`));
      res.on("error", (error) => fail(`download interrupted after ${received} of ${params.size} bytes: ${message(error)}`));
      res.on("close", () => {
        if (!res.complete) fail(`download interrupted after ${received} of ${params.size} bytes`);
      });
      res.on("end", () => {
        if (!res.complete) return fail(`download interrupted after ${received} of ${params.size} bytes`);
        if (received !== params.size) return fail(`size mismatch: received ${received} bytes, expected ${params.size}`);
        const digest = hash.digest("hex");
        if (digest !== params.sha256) return fail(`sha256 mismatch: image is ${digest}, expected ${params.sha256}`);
        finish({ ok: true });
      });
    });
    req.end();
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
