import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3StorageConfig } from "../packages/platform/src/index.ts";

/** s3rver 3.7: a local S3-compatible server (CommonJS, untyped). */
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)("s3rver") as new (options: {
  port: number; address: string; silent: boolean; directory: string; configureBuckets: { name: string }[];
}) => S3rverInstance;

export interface LocalS3 {
  endpoint: string;
  /** The storage settings of `bucket` under `prefix`, with s3rver's own keys. */
  config(prefix?: string): S3StorageConfig;
  close(): Promise<void>;
}

/** A throwaway S3-compatible server on a free port, with one bucket, its data in a temporary folder. */
export async function startLocalS3(bucket = "mcs-archive"): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), "mcs-s3rver-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: bucket }] });
  const endpoint = `http://127.0.0.1:${(await server.run()).port}`;
  return {
    endpoint,
    config: (prefix = "") => ({ endpoint, region: "auto", bucket, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", forcePathStyle: true, prefix }),
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
