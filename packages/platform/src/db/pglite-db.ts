import type { PGlite } from "@electric-sql/pglite";
import type { Db, Queryable } from "./db.ts";

/** The Db port on PGlite: PostgreSQL in WASM, in-process, file-backed (or in memory when `dataDir` is omitted). */
export async function createPgliteDb(dataDir?: string): Promise<Db> {
  // Loaded on demand: ~44 MB a process on PostgreSQL (services mode) never needs.
  const { PGlite } = await import("@electric-sql/pglite");
  const pg = await PGlite.create(dataDir);
  const on = (conn: Pick<PGlite, "query">): Queryable => ({
    async query<T>(text: string, params: readonly unknown[] = []) {
      const result = await conn.query<T>(text, params as unknown[]);
      return result.rows;
    },
  });
  const root = on(pg);
  return {
    kind: "pglite",
    query: root.query,
    transaction: (fn) => pg.transaction((tx) => fn(on(tx))),
    close: () => pg.close(),
  };
}
