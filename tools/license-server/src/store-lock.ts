import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "lock";

/** Who has the store open: PGlite is one process's database, never two at once. */
export interface LockHolder {
  pid: number;
  kind: "serve" | "cli";
  /** `serve`: where its admin API answers on this machine, so that the CLI can go through it. */
  url?: string;
}

export interface StoreLock {
  /** `serve`, once it listens: tells the CLI where to reach it. */
  update(holder: Omit<LockHolder, "pid">): void;
  release(): void;
}

export class StoreBusyError extends Error {
  override name = "StoreBusyError";
  constructor(readonly holder: LockHolder, readonly file: string) {
    super(`${file}: the store is in use by process ${holder.pid} (${holder.kind}); if no such process runs, delete the file`);
  }
}

/** Takes `dir/lock`, or throws `StoreBusyError` naming the live process that holds it. A dead holder's lock is taken over. */
export function acquireStoreLock(dir: string, holder: Omit<LockHolder, "pid">): StoreLock {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, LOCK_FILE);
  const write = (flag: "wx" | "w", entry: Omit<LockHolder, "pid">) => writeFileSync(file, `${JSON.stringify({ pid: process.pid, ...entry })}\n`, { flag, mode: 0o600 });
  for (let attempt = 0; ; attempt++) {
    try {
      write("wx", holder);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
    }
    const current = readStoreLock(dir);
    if (current && current.pid !== process.pid && isAlive(current.pid)) throw new StoreBusyError(current, file);
    unlinkSync(file);
  }
  let released = false;
  return {
    update(entry) {
      if (!released) write("w", entry);
    },
    release() {
      if (released) return;
      released = true;
      if (readStoreLock(dir)?.pid === process.pid) unlinkSync(file);
    },
  };
}

/** The lock's holder if it is still running; null when the store is free (or the lock stale). */
export function liveStoreHolder(dir: string): LockHolder | null {
  const holder = readStoreLock(dir);
  return holder && isAlive(holder.pid) ? holder : null;
}

function readStoreLock(dir: string): LockHolder | null {
  try {
    const holder = JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")) as LockHolder;
    return Number.isInteger(holder.pid) ? holder : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
