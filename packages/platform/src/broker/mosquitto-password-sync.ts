import { chmod, chown, readFile, rename, stat, writeFile } from "node:fs/promises";
import { createLogger } from "../log.ts";
import type { DeviceStore } from "../stores/device-store.ts";
import { formatPasswordFile, type PasswordFileEntry } from "./mosquitto-passwd.ts";

const log = createLogger("broker.passwords");

/** The platform's own accounts (`mcs-worker`, `mcs-backend`): set up by the operator, kept as they are. */
const SERVICE_ACCOUNT = /^mcs-/i;

export interface MosquittoPasswordSyncOptions {
  /** The broker's `password_file`. */
  file: string;
  /** The broker's process id (1 when the backend shares the broker container's PID namespace). */
  pid: number;
  devices: Pick<DeviceStore, "credentials">;
}

/**
 * Keeps Mosquitto's password file equal to the enabled devices (their `$7$` hashes from
 * the database) plus the service accounts already in it, and makes the broker reload it
 * (SIGHUP). A created device can log in, a deleted or disabled one cannot, a rotated
 * password replaces the old one. The ACL (`pattern … mcs/%u/…`) keeps each device to its
 * own topics. The file is replaced atomically, keeping its owner and mode, so the broker
 * never reads half of it.
 */
export class MosquittoPasswordSync {
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(private readonly options: MosquittoPasswordSyncOptions) {}

  /** Rewrites and reloads; calls that come during a sync share the next one. */
  sync(): Promise<void> {
    this.queued ??= this.running.catch(() => {}).then(() => {
      this.queued = undefined;
      return this.write();
    });
    this.running = this.queued;
    return this.queued;
  }

  private async write(): Promise<void> {
    const { file, pid, devices } = this.options;
    const before = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw error;
    });
    const services: PasswordFileEntry[] = before
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => ({ username: line.slice(0, line.indexOf(":")), hash: line.slice(line.indexOf(":") + 1) }))
      .filter((entry) => SERVICE_ACCOUNT.test(entry.username));
    const text = formatPasswordFile([...services, ...(await devices.credentials())]);
    if (text === before) return;
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, text, { mode: 0o600 });
    const owner = await stat(file).catch(() => undefined);
    if (owner) {
      // The broker reads it as its own user after dropping privileges.
      await chown(temporary, owner.uid, owner.gid).catch(() => {});
      await chmod(temporary, owner.mode & 0o777);
    }
    await rename(temporary, file);
    process.kill(pid, "SIGHUP");
    // Once more a moment later: a SIGHUP that lands while the broker is still busy with the
    // previous reload may not be seen (two changes in quick succession), and reloading twice costs nothing.
    setTimeout(() => {
      try {
        process.kill(pid, "SIGHUP");
      } catch {
        // the broker is gone; its next start reads the file anyway
      }
    }, 1_000).unref();
    log.info({ file, accounts: text.split("\n").length - 1 }, "broker password file written and reloaded");
  }
}
