import { createHash } from "node:crypto";
import { randomSecret } from "@mcs/core";

/** A session token: 32 random bytes, URL-safe. Only its hash is ever stored. */
export function newToken(): string {
  return randomSecret(32);
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
