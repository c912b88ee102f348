import { createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Password hashes in the format Mosquitto 2.x reads from its `password_file`, so that the
 * backend can write that file itself (device credentials, rotation) without shelling out to
 * `mosquitto_passwd`.
 *
 * `$7$<iterations>$<salt>$<hash>` is what `mosquitto_passwd` 2.x writes by default
 * (`-H sha512-pbkdf2`): PBKDF2-HMAC-SHA512, a 12-byte salt, a 64-byte key, standard base64
 * with padding, and 101 iterations. `$6$<salt>$<hash>` (SHA-512 of password ‖ salt, the
 * 1.6.x default) is still accepted by the broker, so it is verified here too, never written.
 *
 * Why only 101 iterations: every device and service secret is a long random token made by
 * the platform (≥ 128 bits), never a person's password, so guessing it from a stolen hash is
 * infeasible whatever the KDF costs. A cheap check matters instead: the broker verifies it on
 * every connect, and 500 devices reconnect at once after a broker restart. 101 is also what
 * mosquitto_passwd writes, so hashes from either tool look alike.
 */

const PBKDF2_ITERATIONS = 101;
const SALT_BYTES = 12;
const KEY_BYTES = 64;

export interface PasswordFileEntry {
  username: string;
  hash: string;
}

/** A `$7$` (PBKDF2-SHA512) hash of `password`, with a fresh random salt. */
export function hashMosquittoPassword(password: string): string {
  const salt = randomBytes(SALT_BYTES);
  const key = pbkdf2Sync(password, salt, PBKDF2_ITERATIONS, KEY_BYTES, "sha512");
  return `$7$${PBKDF2_ITERATIONS}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/**
 * True when `password` matches `hash` (`$7$` or `$6$`, as Mosquitto 2.x accepts). The
 * comparison of the derived keys is timing-safe; a malformed hash is simply no match.
 */
export function verifyMosquittoPassword(password: string, hash: string): boolean {
  const parsed = parseHash(hash);
  if (!parsed) return false;
  const actual =
    parsed.kind === "pbkdf2"
      ? pbkdf2Sync(password, parsed.salt, parsed.iterations, parsed.key.length, "sha512")
      : createHash("sha512").update(password, "utf8").update(parsed.salt).digest();
  return actual.length === parsed.key.length && timingSafeEqual(actual, parsed.key);
}

/**
 * The text of a Mosquitto `password_file`: one `username:hash` line each, in the given order.
 * Throws on a username Mosquitto could not read back (a colon or a line break in it, or empty)
 * and on a duplicate, rather than writing a file that silently locks someone out.
 */
export function formatPasswordFile(entries: readonly PasswordFileEntry[]): string {
  const seen = new Set<string>();
  const lines = entries.map(({ username, hash }) => {
    if (username === "" || /[:\r\n\0]/.test(username)) throw new Error(`username ${JSON.stringify(username)} cannot be written to a Mosquitto password file`);
    if (seen.has(username)) throw new Error(`username ${JSON.stringify(username)} appears twice`);
    seen.add(username);
    if (!parseHash(hash)) throw new Error(`the hash for ${JSON.stringify(username)} is not a Mosquitto $7$ or $6$ hash`);
    return `${username}:${hash}\n`;
  });
  return lines.join("");
}

type ParsedHash =
  | { kind: "pbkdf2"; iterations: number; salt: Buffer; key: Buffer }
  | { kind: "sha512"; salt: Buffer; key: Buffer };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseHash(hash: string): ParsedHash | undefined {
  const parts = hash.split("$");
  // "$7$101$salt$key".split("$") → ["", "7", "101", "salt", "key"]
  if (parts[0] !== "") return undefined;
  if (parts[1] === "7" && parts.length === 5) {
    const [, , iterationsText, saltText, keyText] = parts as [string, string, string, string, string];
    if (!/^[1-9][0-9]{0,8}$/.test(iterationsText) || !BASE64.test(saltText) || !BASE64.test(keyText)) return undefined;
    const key = Buffer.from(keyText, "base64");
    if (key.length === 0) return undefined;
    return { kind: "pbkdf2", iterations: Number(iterationsText), salt: Buffer.from(saltText, "base64"), key };
  }
  if (parts[1] === "6" && parts.length === 4) {
    const [, , saltText, keyText] = parts as [string, string, string, string];
    if (!BASE64.test(saltText) || !BASE64.test(keyText)) return undefined;
    const key = Buffer.from(keyText, "base64");
    if (key.length !== 64) return undefined;
    return { kind: "sha512", salt: Buffer.from(saltText, "base64"), key };
  }
  return undefined;
}
