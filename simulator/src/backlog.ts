import type { Reading } from "@mcs/protocol";
import { applyBacklogOp, type BacklogEntry, type BacklogImage, type Flash } from "./flash.ts";

/** How many unsent readings the firmware keeps (the plan: 1000). */
export const BACKLOG_CAPACITY = 1000;

/**
 * The readings not yet acknowledged by the broker, oldest first: a ring buffer of
 * `capacity` entries in RAM, every change journaled to flash before it counts. Beyond
 * the capacity the oldest reading is dropped and counted. A reading leaves only when
 * the broker has PUBACKed the message that carried it.
 */
export class Backlog {
  private image: BacklogImage;
  private opsSinceCompaction = 0;

  constructor(
    private readonly flash: Flash,
    readonly capacity: number = BACKLOG_CAPACITY,
  ) {
    this.image = flash.readBacklog(capacity);
    this.compact();
  }

  /** Readings waiting (including a batch in flight). */
  get size(): number {
    return this.image.entries.length;
  }

  /** Readings dropped because the buffer was full, since the flash was new. */
  get dropped(): number {
    return this.image.dropped;
  }

  /** Stores a reading; answers how many old ones it pushed out (0 or 1). */
  push(reading: Reading): number {
    const before = this.image.dropped;
    const op = { i: this.image.next, r: reading };
    this.flash.appendBacklog(op);
    applyBacklogOp(this.image, op, this.capacity);
    this.afterOp();
    return this.image.dropped - before;
  }

  /** The oldest `max` entries, without removing them. */
  peek(max: number): BacklogEntry[] {
    return this.image.entries.slice(0, max);
  }

  /** Removes every entry up to and including `index` (the last one a PUBACKed message carried). */
  ackThrough(index: number): void {
    const op = { a: index };
    this.flash.appendBacklog(op);
    applyBacklogOp(this.image, op, this.capacity);
    this.afterOp();
  }

  private afterOp(): void {
    if (++this.opsSinceCompaction >= 4 * this.capacity) this.compact();
  }

  private compact(): void {
    this.flash.rewriteBacklog(this.image);
    this.opsSinceCompaction = 0;
  }
}
