import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { apiReference } from "../src/api-reference.ts";

// Issue 14: docs/api.md is generated from the OpenAPI document (npm run docs:api) and must be current.
describe("docs/api.md", () => {
  it("is what npm run docs:api writes now: run it after changing a route", async () => {
    const reference = await apiReference();
    expect(reference).toContain("### `POST /api/archive/restore`");
    expect(reference).toContain("- body: `{ day: string }`");
    expect(readFileSync(fileURLToPath(new URL("../../docs/api.md", import.meta.url)), "utf8")).toBe(reference);
  }, 60_000);
});
