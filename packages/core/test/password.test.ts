import { describe, expect, it } from "vitest";
import { hashPassword, randomSecret, verifyPassword } from "../src/password.ts";

describe("user passwords", () => {
  it("are stored hashed with scrypt and a salt, never in clear", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toContain("correct horse");
    expect(a).not.toBe(b);
  });

  it("verify the right password and refuse a wrong or malformed one", async () => {
    const stored = await hashPassword("correct horse");
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("correct hors", stored)).toBe(false);
    expect(await verifyPassword("correct horse", "plain")).toBe(false);
  });

  it("random secrets are long and URL-safe", () => {
    expect(randomSecret()).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
