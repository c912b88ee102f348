import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import type { ObjectInfo, ObjectStore } from "./object-store.ts";

// The SDK is loaded on first use: processes that never touch the storage do not pay for it.
type S3Sdk = typeof import("@aws-sdk/client-s3");
let sdk: Promise<S3Sdk> | undefined;
const loadSdk = (): Promise<S3Sdk> => (sdk ??= import("@aws-sdk/client-s3"));
/** Parts of a multipart upload: S3's minimum is 5 MiB; 8 MiB keeps a day of 500 detectors at a few parts. */
const PART_BYTES = 8 * 1024 * 1024;

/** An error the S3 service answered (as opposed to one on the way there). */
interface S3ServiceError extends Error {
  $metadata: { httpStatusCode?: number };
  $fault?: "client" | "server";
}

function isServiceError(error: unknown): error is S3ServiceError {
  return error instanceof Error && typeof (error as { $metadata?: unknown }).$metadata === "object" && (error as { $fault?: unknown }).$fault !== undefined;
}

/** No such object (as opposed to no such bucket, which is an error). */
function isMissing(error: unknown): boolean {
  return isServiceError(error) && (error.name === "NoSuchKey" || error.name === "NotFound" || error.$metadata.httpStatusCode === 404) && error.name !== "NoSuchBucket";
}

/** Where objects go: an S3-compatible endpoint, a bucket, and the keys to reach it. */
export interface S3StorageConfig {
  /** http(s) address of the service, e.g. https://<account>.r2.cloudflarestorage.com */
  endpoint: string;
  /** "auto" for Cloudflare R2; the bucket's region for AWS S3. */
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `endpoint/bucket/key` rather than `bucket.endpoint/key` (MinIO and most S3-compatible servers). */
  forcePathStyle: boolean;
  /** Prepended to every key ("mcs/"); "" for the bucket's root. */
  prefix: string;
}

export interface S3ObjectStoreOptions {
  /** Per request: connecting, and then each wait for the server (default 30 s). */
  timeoutMs?: number;
  /** Attempts per request, retries included (default the SDK's 3). */
  maxAttempts?: number;
}

/** A connection test's outcome, in plain words. */
export interface StorageTestOutcome {
  ok: boolean;
  detail: string;
}

/** `prefix` + `key`, with one "/" between them when the prefix does not end with one. */
export function prefixedKey(prefix: string, key: string): string {
  if (prefix === "") return key;
  return prefix.endsWith("/") ? `${prefix}${key}` : `${prefix}/${key}`;
}

async function createClient(config: S3StorageConfig, options: S3ObjectStoreOptions): Promise<{ client: S3Client; sdk: S3Sdk }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const s3 = await loadSdk();
  const client = new s3.S3Client({
    endpoint: config.endpoint,
    region: config.region || "auto",
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
    // Checksums only where S3 requires them: R2, MinIO and older S3-compatible servers do not
    // all understand the SDK's default aws-chunked uploads with trailing CRC32 checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return { client, sdk: s3 };
}

/** The ObjectStore port on an S3-compatible service; keys are under the configured prefix. */
export class S3ObjectStore implements ObjectStore {
  private connection: Promise<{ client: S3Client; sdk: S3Sdk }> | undefined;

  constructor(readonly config: S3StorageConfig, private readonly options: S3ObjectStoreOptions = {}) {}

  get target(): string {
    return `s3://${this.config.bucket}/${this.config.prefix} at ${this.config.endpoint}`;
  }

  private connect(): Promise<{ client: S3Client; sdk: S3Sdk }> {
    return (this.connection ??= createClient(this.config, this.options));
  }

  /** Throws (an S3ServiceException or a network error) when the bucket is not there or not ours. */
  async headBucket(signal?: AbortSignal): Promise<void> {
    const { client, sdk } = await this.connect();
    await client.send(new sdk.HeadBucketCommand({ Bucket: this.config.bucket }), { abortSignal: signal });
  }

  async put(key: string, body: Uint8Array, contentType = "application/octet-stream", signal?: AbortSignal): Promise<void> {
    const { client, sdk } = await this.connect();
    await client.send(
      new sdk.PutObjectCommand({ Bucket: this.config.bucket, Key: prefixedKey(this.config.prefix, key), Body: body, ContentType: contentType, ContentLength: body.byteLength }),
      { abortSignal: signal },
    );
  }

  /** A file of any size, streamed: one PUT up to a part's size, a multipart upload beyond (aborted on failure). */
  async putFile(key: string, path: string, contentType = "application/octet-stream"): Promise<void> {
    const { client, sdk } = await this.connect();
    const size = (await stat(path)).size;
    const Key = prefixedKey(this.config.prefix, key);
    if (size <= PART_BYTES) {
      await client.send(new sdk.PutObjectCommand({ Bucket: this.config.bucket, Key, Body: createReadStream(path), ContentType: contentType, ContentLength: size }));
      return;
    }
    const { Upload } = await import("@aws-sdk/lib-storage");
    await new Upload({ client, params: { Bucket: this.config.bucket, Key, Body: createReadStream(path), ContentType: contentType }, partSize: PART_BYTES, queueSize: 2, leavePartsOnError: false }).done();
  }

  async getStream(key: string): Promise<Readable | null> {
    const { client, sdk } = await this.connect();
    try {
      const answer = await client.send(new sdk.GetObjectCommand({ Bucket: this.config.bucket, Key: prefixedKey(this.config.prefix, key) }));
      if (!answer.Body) return Readable.from([]);
      return answer.Body as Readable;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const { client, sdk } = await this.connect();
    try {
      const answer = await client.send(new sdk.HeadObjectCommand({ Bucket: this.config.bucket, Key: prefixedKey(this.config.prefix, key) }));
      return { key, bytes: answer.ContentLength ?? 0, modified_at: answer.LastModified?.toISOString() ?? null };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const { client, sdk } = await this.connect();
    const own = prefixedKey(this.config.prefix, "");
    const found: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefixedKey(this.config.prefix, prefix), ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        found.push({ key: object.Key.slice(own.length), bytes: object.Size ?? 0, modified_at: object.LastModified?.toISOString() ?? null });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async get(key: string, signal?: AbortSignal): Promise<Buffer | null> {
    const { client, sdk } = await this.connect();
    try {
      const answer = await client.send(new sdk.GetObjectCommand({ Bucket: this.config.bucket, Key: prefixedKey(this.config.prefix, key) }), { abortSignal: signal });
      if (!answer.Body) return Buffer.alloc(0);
      return Buffer.from(await answer.Body.transformToByteArray());
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    const { client, sdk } = await this.connect();
    await client.send(new sdk.DeleteObjectCommand({ Bucket: this.config.bucket, Key: prefixedKey(this.config.prefix, key) }), { abortSignal: signal });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) (await connection).client.destroy();
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EPIPE", "ECONNABORTED",
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const own = (error as { code?: unknown }).code;
  if (typeof own === "string") return own;
  // Node 20 tries each address of a name (happy eyeballs) and reports them together.
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner)) for (const each of inner) { const code = errorCode(each); if (code) return code; }
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error ? errorCode(cause) : undefined;
}

/**
 * What went wrong, for a person configuring the storage: "bucket mcs-archive not found",
 * "access denied: check the keys", "cannot reach http://…: ECONNREFUSED". Never the secret.
 */
export function describeS3Error(error: unknown, config: Pick<S3StorageConfig, "endpoint" | "bucket" | "region">, timeoutMs?: number): string {
  const bucket = config.bucket;
  if (isServiceError(error)) {
    const status = error.$metadata.httpStatusCode;
    const name = error.name;
    if (name === "NoSuchBucket" || (name === "NotFound" && status === 404)) return `bucket ${bucket} not found at ${config.endpoint}`;
    if (name === "InvalidAccessKeyId") return "access denied: check the keys (the access key id is not known there)";
    if (name === "SignatureDoesNotMatch") return "access denied: check the keys (the secret access key does not match)";
    if (name === "AccessDenied" || name === "Forbidden" || status === 403) return `access denied: check the keys and that they may use bucket ${bucket}`;
    if (name === "PermanentRedirect" || name === "AuthorizationHeaderMalformed" || status === 301) {
      return `bucket ${bucket} answers from another region than "${config.region}": set the bucket's region (or "auto" for Cloudflare R2), or the endpoint`;
    }
    if (status === 400 && /region/i.test(error.message)) return `wrong region "${config.region}": ${error.message}`;
    const what = name && name !== "UnknownError" && name !== "Unknown" ? name : `HTTP ${status ?? "error"}`;
    const message = error.message && error.message !== "UnknownError" && error.message !== name ? `: ${error.message}` : "";
    return `the storage answered ${what}${status !== undefined && !what.startsWith("HTTP") ? ` (HTTP ${status})` : ""}${message}`;
  }
  const code = errorCode(error);
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "AbortError" || name === "TimeoutError" || code === "ETIMEDOUT") {
    const ms = timeoutMs ?? 10_000;
    return `cannot reach ${config.endpoint}: no answer within ${ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`}`;
  }
  if (code !== undefined && NETWORK_CODES.has(code)) return `cannot reach ${config.endpoint}: ${code}`;
  if (code !== undefined && /CERT|SSL|TLS|SELF_SIGNED/i.test(code)) return `cannot reach ${config.endpoint} over TLS: ${code} (the server's certificate is not trusted)`;
  const message = error instanceof Error ? error.message : String(error);
  return `cannot use ${config.endpoint}: ${code ? `${code}: ` : ""}${message}`;
}

/**
 * Checks that the storage works as the archiver will use it: the bucket is there and ours
 * (HeadBucket), and a small probe object under the prefix can be written, read back and
 * deleted. Everything within `timeoutMs` (default 10 s); one attempt per request.
 */
export async function testS3Storage(config: S3StorageConfig, options: { timeoutMs?: number; now?: () => number } = {}): Promise<StorageTestOutcome> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const store = new S3ObjectStore(config, { timeoutMs, maxAttempts: 1 });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const signal = controller.signal;
  const key = `.mcs-connection-test/${randomBytes(6).toString("hex")}`;
  const fullKey = prefixedKey(config.prefix, key);
  const probe = Buffer.from(`MCS-IoT storage test ${new Date(options.now?.() ?? Date.now()).toISOString()}\n`, "utf8");
  const failed = (error: unknown, what: string) => ({ ok: false, detail: `${what}${describeS3Error(error, config, timeoutMs)}` });
  try {
    try {
      await store.headBucket(signal);
    } catch (error) {
      return failed(error, "");
    }
    try {
      await store.put(key, probe, "text/plain; charset=utf-8", signal);
    } catch (error) {
      return failed(error, `bucket ${config.bucket} is there, but the probe object ${fullKey} could not be written: `);
    }
    let back: Buffer | null;
    try {
      back = await store.get(key, signal);
    } catch (error) {
      await store.delete(key, signal).catch(() => undefined);
      return failed(error, `the probe object ${fullKey} was written but could not be read back: `);
    }
    if (back === null || !back.equals(probe)) {
      await store.delete(key, signal).catch(() => undefined);
      return { ok: false, detail: `the probe object ${fullKey} read back ${back === null ? "missing" : `different (${back.length} bytes, ${probe.length} written)`}` };
    }
    try {
      await store.delete(key, signal);
    } catch (error) {
      return failed(error, `the probe object ${fullKey} was written and read back but could not be deleted: `);
    }
    return { ok: true, detail: `bucket ${config.bucket} at ${config.endpoint} works: wrote, read back and deleted ${fullKey}` };
  } finally {
    clearTimeout(timer);
    await store.close();
  }
}
