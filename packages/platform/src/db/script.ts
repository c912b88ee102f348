import type { Queryable } from "./db.ts";

/** Prepared statements take one command each, so a script runs statement by statement. */
export async function runScript(tx: Queryable, script: string): Promise<void> {
  const statements = script
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter(Boolean);
  for (const statement of statements) await tx.query(statement);
}
