import type { Db } from "./db.ts";
import { migrations } from "./migrations.ts";
import { runScript } from "./script.ts";

// Any constant: serialises concurrent starters (worker and backend booting together).
const MIGRATION_LOCK = 7_357_001;

/**
 * Brings the schema up to date (or up to `upTo`: a test stands where an older release stood),
 * in one transaction; returns the versions applied.
 */
export async function migrate(db: Db, upTo = Number.POSITIVE_INFINITY): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ version: number }>(`SELECT version FROM schema_migrations`)).map((r) => r.version));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version) || migration.version > upTo) continue;
      if (typeof migration.up === "string") await runScript(tx, migration.up);
      else await migration.up(tx);
      await tx.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    return applied;
  });
}
