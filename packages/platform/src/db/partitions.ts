import type { Queryable } from "./db.ts";

const DAY_MS = 24 * 3600 * 1000;

/** `telemetry_20251213` for the UTC day holding `ms`. */
export function partitionName(ms: number): string {
  return `telemetry_${new Date(ms).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/**
 * Daily partitions of `telemetry` (when it is partitioned, i.e. without TimescaleDB).
 * Remembers which days exist, so the hot path asks the database only for a new day.
 */
export class TelemetryPartitions {
  private readonly known = new Set<string>();
  private partitioned: boolean | undefined;

  constructor(private readonly db: Queryable) {}

  /** Makes sure every UTC day touched by `timestampsMs` has its partition. */
  async ensure(timestampsMs: Iterable<number>): Promise<void> {
    const days = new Set<number>();
    for (const ms of timestampsMs) days.add(Math.floor(ms / DAY_MS) * DAY_MS);
    for (const day of days) {
      const name = partitionName(day);
      if (this.known.has(name)) continue;
      if (!(await this.isPartitioned())) return;
      const from = new Date(day).toISOString();
      const to = new Date(day + DAY_MS).toISOString();
      try {
        await this.db.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF telemetry FOR VALUES FROM ('${from}') TO ('${to}')`);
      } catch (error) {
        // Two workers racing for the same new day: the loser's CREATE fails, the table exists.
        if (!/already exists/.test(String(error))) throw error;
      }
      this.known.add(name);
    }
  }

  /** Today and the next `daysAhead` days, made ahead of time so the hot path rarely creates one. */
  async ensureAhead(nowMs: number, daysAhead = 3): Promise<void> {
    const days: number[] = [];
    for (let i = 0; i <= daysAhead; i++) days.push(nowMs + i * DAY_MS);
    await this.ensure(days);
  }

  private async isPartitioned(): Promise<boolean> {
    if (this.partitioned === undefined) {
      const rows = await this.db.query(`SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname = 'telemetry'`);
      this.partitioned = rows.length > 0;
    }
    return this.partitioned;
  }
}
