import type { Readable } from "node:stream";

/** What the store knows of one object. */
export interface ObjectInfo {
  key: string;
  bytes: number;
  /** ISO-8601, or null where the store does not say. */
  modified_at: string | null;
}

/**
 * The ObjectStore port: where archives and other large blobs go, by key. Two
 * implementations, one contract: `S3ObjectStore` (Cloudflare R2, MinIO, AWS S3…) and
 * `FolderObjectStore` (a local folder, the embedded default).
 */
export interface ObjectStore {
  /** Where the objects are, for people: `s3://bucket/prefix` or the folder. */
  readonly target: string;
  /** Writes (or overwrites) the object. */
  put(key: string, body: Uint8Array, contentType?: string): Promise<void>;
  /** Writes (or overwrites) the object from a file, streamed (multipart where the store has it); a reader never sees half of it. */
  putFile(key: string, path: string, contentType?: string): Promise<void>;
  /** The object's bytes; null when there is none. */
  get(key: string): Promise<Buffer | null>;
  /** The object's bytes as a stream; null when there is none. */
  getStream(key: string): Promise<Readable | null>;
  /** Size and date; null when there is none. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Every object whose key starts with `prefix`, ordered by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Removes the object; removing one that is not there is no error. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
