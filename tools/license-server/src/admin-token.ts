import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const ADMIN_TOKEN_FILE = "admin-token";

/**
 * The vendor's admin token, kept in `dir/admin-token` (readable by its owner only). Made
 * at the first start; `created` tells the caller to show it this once.
 */
export function ensureAdminToken(dir: string): { token: string; file: string; created: boolean } {
  const file = join(dir, ADMIN_TOKEN_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString("base64url");
  try {
    writeFileSync(file, `${token}\n`, { flag: "wx", mode: 0o600 });
    return { token, file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return { token: readAdminToken(dir), file, created: false };
}

export function readAdminToken(dir: string): string {
  const file = join(dir, ADMIN_TOKEN_FILE);
  const token = readFileSync(file, "utf8").trim();
  if (token.length < 16) throw new Error(`${file}: not an admin token (too short); delete it to have a new one made`);
  return token;
}

/** Compares in constant time (over the hashes, so the lengths may differ). */
export function tokenMatches(presented: string, token: string): boolean {
  const hash = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(hash(presented), hash(token));
}
