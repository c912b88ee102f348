import type { FastifySchemaValidationError } from "fastify";

/** How many problems one 400 answer names; the rest are counted. */
const MAX_LISTED = 5;

const PART_NAMES: Record<string, string> = { body: "body", querystring: "query", params: "params", headers: "headers" };

/**
 * One readable line for a failed validation that names each field:
 * `body.k: expected number, received string; body.colour: unknown field`.
 */
export function validationMessage(issues: readonly FastifySchemaValidationError[], context: string | undefined): string {
  const part = PART_NAMES[context ?? ""] ?? context ?? "request";
  const lines = issues.flatMap((issue) => describe(issue, part));
  const listed = lines.slice(0, MAX_LISTED);
  if (lines.length > MAX_LISTED) listed.push(`and ${lines.length - MAX_LISTED} more`);
  return listed.join("; ");
}

function describe(issue: FastifySchemaValidationError, part: string): string[] {
  const where = fieldPath(part, issue.instancePath);
  const keys = (issue.params as { keys?: unknown }).keys;
  if (issue.keyword === "unrecognized_keys" && Array.isArray(keys)) {
    return keys.map((key) => `${where}.${String(key)}: unknown field`);
  }
  // zod's "Invalid input: expected number, received string" → "expected number, received string".
  const message = (issue.message ?? "invalid").replace(/^Invalid input: /, "");
  return [`${where}: ${message}`];
}

function fieldPath(part: string, instancePath: string): string {
  const segments = instancePath.split("/").filter(Boolean);
  return [part, ...segments].join(".");
}
