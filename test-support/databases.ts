import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";

/** A new, empty database on the run's throwaway PostgreSQL server; returns its URL. */
export async function createTestDatabase(prefix = "t"): Promise<string> {
  const admin = inject("postgresUrl");
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end();
  }
  return admin.replace(/\/[^/]*$/, `/${name}`);
}

/** A Redis key prefix no other test file uses. */
export function uniquePrefix(): string {
  return `t${randomBytes(4).toString("hex")}:`;
}
