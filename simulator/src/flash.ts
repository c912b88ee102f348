import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AckMessage, Reading } from "@mcs/protocol";

/** Calibration kept on the device for its local display: `k × v_raw + b + t_comp × (temp − t_ref)`. */
export interface LocalCalibration {
  k: number;
  b: number;
  t_comp: number;
  t_ref: number;
}

export const FACTORY_CALIBRATION: LocalCalibration = { k: 1, b: 0, t_comp: 0, t_ref: 20 };

/**
 * Non-volatile settings (the firmware's NVS partition): survive a reboot and a power cut.
 */
export interface Nvs {
  /** Boots so far, counting the current one. */
  boot: number;
  /** The firmware version the device boots into. */
  fw: string;
  calib: LocalCalibration;
  /** Acknowledgements not yet PUBACKed by the broker (e.g. answered just before a reboot). */
  pendingAcks: AckMessage[];
  /** Ids of the last commands handled, so a redelivered command is answered, not run twice. */
  recentCommands: string[];
  /** An OTA download under way: if the device reboots before it ends, it is reported failed. */
  otaInProgress?: { id: string; version: string } | undefined;
}

/** One unsent reading in the backlog, numbered by its place in the journal. */
export interface BacklogEntry {
  index: number;
  reading: Reading;
}

/** The backlog as stored: entries oldest first, the next index, and readings dropped so far. */
export interface BacklogImage {
  next: number;
  dropped: number;
  entries: BacklogEntry[];
}

/** A change to the backlog: a reading pushed, or every entry up to `a` acknowledged. */
export type BacklogOp = { i: number; r: Reading } | { a: number };

/**
 * The device's flash: the NVS settings and the backlog journal. {@link MemoryFlash}
 * outlives a reboot of the same emulated device (a reboot only loses RAM);
 * {@link FileFlash} also outlives the emulator's process.
 */
export interface Flash {
  readNvs(): Nvs | undefined;
  writeNvs(nvs: Nvs): void;
  /** The backlog after replaying the journal with the given capacity. */
  readBacklog(capacity: number): BacklogImage;
  appendBacklog(op: BacklogOp): void;
  /** Replaces the journal with an image (compaction). */
  rewriteBacklog(image: BacklogImage): void;
}

/**
 * Applies one journal operation. A push beyond `capacity` drops the oldest entry and
 * counts it: the same rule at run time and when the journal is replayed after a reboot.
 */
export function applyBacklogOp(image: BacklogImage, op: BacklogOp, capacity: number): void {
  if ("r" in op) {
    image.entries.push({ index: op.i, reading: op.r });
    image.next = Math.max(image.next, op.i + 1);
    while (image.entries.length > capacity) {
      image.entries.shift();
      image.dropped++;
    }
  } else {
    let acked = 0;
    while (acked < image.entries.length && image.entries[acked]!.index <= op.a) acked++;
    if (acked > 0) image.entries.splice(0, acked);
  }
}

function cloneImage(image: BacklogImage): BacklogImage {
  return { next: image.next, dropped: image.dropped, entries: image.entries.map((e) => ({ index: e.index, reading: { ...e.reading } })) };
}

export class MemoryFlash implements Flash {
  private nvs: Nvs | undefined;
  private image: BacklogImage = { next: 1, dropped: 0, entries: [] };
  private ops: BacklogOp[] = [];

  readNvs(): Nvs | undefined {
    return this.nvs ? structuredClone(this.nvs) : undefined;
  }

  writeNvs(nvs: Nvs): void {
    this.nvs = structuredClone(nvs);
  }

  readBacklog(capacity: number): BacklogImage {
    const image = cloneImage(this.image);
    for (const op of this.ops) applyBacklogOp(image, op, capacity);
    this.image = cloneImage(image);
    this.ops = [];
    return image;
  }

  appendBacklog(op: BacklogOp): void {
    this.ops.push("r" in op ? { i: op.i, r: { ...op.r } } : { a: op.a });
  }

  rewriteBacklog(image: BacklogImage): void {
    this.image = cloneImage(image);
    this.ops = [];
  }
}

/**
 * Flash as files in one folder per device: `nvs.json` (written whole, atomically) and
 * `backlog.jsonl`, a journal of one JSON line per operation (`{"i":7,"r":{reading}}` a
 * push, `{"a":7}` everything up to 7 acknowledged, `{"h":{"next","dropped"}}` the header a
 * compaction writes). Appends are synchronous, so the journal on disk is never behind the
 * device's RAM; a torn last line (power cut mid-write) is ignored when replaying.
 */
export class FileFlash implements Flash {
  readonly dir: string;
  private readonly nvsPath: string;
  private readonly journalPath: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.nvsPath = join(dir, "nvs.json");
    this.journalPath = join(dir, "backlog.jsonl");
  }

  readNvs(): Nvs | undefined {
    if (!existsSync(this.nvsPath)) return undefined;
    try {
      return JSON.parse(readFileSync(this.nvsPath, "utf8")) as Nvs;
    } catch {
      return undefined; // a corrupt NVS page: the firmware falls back to factory settings
    }
  }

  writeNvs(nvs: Nvs): void {
    writeAtomically(this.nvsPath, JSON.stringify(nvs));
  }

  readBacklog(capacity: number): BacklogImage {
    const image: BacklogImage = { next: 1, dropped: 0, entries: [] };
    if (!existsSync(this.journalPath)) return image;
    for (const line of readFileSync(this.journalPath, "utf8").split("\n")) {
      if (!line) continue;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof record !== "object" || record === null) continue;
      if ("h" in record) {
        const header = (record as { h: { next: number; dropped: number } }).h;
        image.next = header.next;
        image.dropped = header.dropped;
        image.entries = [];
      } else if ("r" in record || "a" in record) {
        applyBacklogOp(image, record as BacklogOp, capacity);
      }
    }
    return image;
  }

  appendBacklog(op: BacklogOp): void {
    appendFileSync(this.journalPath, `${JSON.stringify(op)}\n`);
  }

  rewriteBacklog(image: BacklogImage): void {
    const lines = [JSON.stringify({ h: { next: image.next, dropped: image.dropped } }), ...image.entries.map((e) => JSON.stringify({ i: e.index, r: e.reading }))];
    writeAtomically(this.journalPath, `${lines.join("\n")}\n`);
  }
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
