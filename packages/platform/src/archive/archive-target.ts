import { join } from "node:path";
import type { SettingsStore } from "../stores/settings-store.ts";
import { s3ConfigOf } from "../stores/settings-store.ts";
import { FolderObjectStore } from "../storage/folder-object-store.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import { describeS3Error, S3ObjectStore } from "../storage/s3-object-store.ts";

/** What went wrong with the archive's store, in plain words (an S3 answer described, never the secret). */
export function describeStoreError(store: ObjectStore | undefined, error: unknown): string {
  return store instanceof S3ObjectStore ? describeS3Error(error, store.config) : error instanceof Error ? error.message : String(error);
}

/**
 * Where the archive goes: the object storage of the settings when one is set up, else the
 * folder `MCS_DATA_DIR/archive` with the same keys (the embedded default). Read at each
 * use: a change of settings holds from the next run on. The caller closes it.
 */
export async function openArchiveStore(settings: SettingsStore, dataDir: string): Promise<ObjectStore> {
  const storage = await settings.storage();
  return storage ? new S3ObjectStore(s3ConfigOf(storage), { timeoutMs: 60_000 }) : new FolderObjectStore(join(dataDir, "archive"));
}
