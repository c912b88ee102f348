/**
 * The ObjectStore port: where archives and other large blobs go, by key. The S3
 * implementation (Cloudflare R2, MinIO, AWS S3…) is `S3ObjectStore`.
 */
export interface ObjectStore {
  /** Writes (or overwrites) the object. */
  put(key: string, body: Uint8Array, contentType?: string): Promise<void>;
  /** The object's bytes; null when there is none. */
  get(key: string): Promise<Buffer | null>;
  /** Removes the object; removing one that is not there is no error. */
  delete(key: string): Promise<void>;
}
