import postgres from "postgres";
import type { Db, Queryable } from "./db.ts";

/** The Db port on a real PostgreSQL server (postgres.js, prepared statements). */
export function createPgDb(url: string, options: { max?: number } = {}): Db {
  const sql = postgres(url, {
    max: options.max ?? 10,
    prepare: true,
    onnotice: () => {},
    // Timestamps stay strings (ISO, as PostgreSQL prints them); numbers come back as numbers.
    types: { bigint: postgres.BigInt },
    connection: { application_name: "mcs-iot" },
  });
  const on = (conn: postgres.Sql | postgres.TransactionSql): Queryable => ({
    async query<T>(text: string, params: readonly unknown[] = []) {
      const rows = await conn.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
      return rows as unknown as T[];
    },
  });
  const root = on(sql);
  return {
    kind: "postgres",
    query: root.query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      return (await sql.begin((tx) => fn(on(tx)))) as T;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
