/**
 * The API's JSON schemas: Fastify validates bodies with them and serializes answers in
 * their property order (which the check's signature relies on: see `checkAnswerSchema`).
 */

/** What each field must be, said once: the schema's pattern and the refusal's words. */
export const FIELD_RULES = {
  license_id: { pattern: "^[\\s\\S]{1,200}$", rule: "a license id of 1–200 characters is needed" },
  fingerprint: { pattern: "^[0-9a-f]{64}$", rule: "64 lower-case hex digits are needed (the machine's fingerprint)" },
  nonce: { pattern: "^[A-Za-z0-9_-]{16,128}$", rule: "16–128 characters of A–Z, a–z, 0–9, _ and - are needed" },
  reason: { pattern: "^[\\s\\S]{0,500}$", rule: "a text of at most 500 characters is needed" },
  file: { pattern: "^[\\s\\S]{1,65536}$", rule: "the license file's text is needed" },
  id: { pattern: "^[\\s\\S]{1,200}$", rule: "a license id of 1–200 characters is needed" },
} as const;
export type FieldName = keyof typeof FIELD_RULES;

const field = (name: FieldName) => ({ type: "string", pattern: FIELD_RULES[name].pattern }) as const;
const nullable = (type: "string" | "integer") => ({ type: [type, "null"] }) as const;

export const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } } },
  },
} as const;

export const checkRequestSchema = {
  type: "object",
  required: ["license_id", "fingerprint", "nonce"],
  properties: { license_id: field("license_id"), fingerprint: field("fingerprint"), nonce: field("nonce") },
} as const;

/** In the order `signCheckAnswer` signs them: the guard verifies the answer as it reads it. */
export const checkAnswerSchema = {
  type: "object",
  required: ["answer", "signature"],
  properties: {
    answer: {
      type: "object",
      required: ["license_id", "fingerprint", "nonce", "status", "time"],
      properties: {
        license_id: { type: "string" },
        fingerprint: { type: "string" },
        nonce: { type: "string" },
        status: { type: "string", enum: ["valid", "revoked", "unknown"] },
        time: { type: "string" },
      },
    },
    signature: { type: "string" },
  },
} as const;

export const licenseViewSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    customer: { type: "string" },
    plant: { type: "string" },
    device_limit: { type: "integer" },
    features: { type: "array", items: { type: "string" } },
    issued_at: { type: "string" },
    expires_at: { type: "string" },
    fingerprint: { type: "string" },
    server: nullable("string"),
    recorded_at: { type: "string" },
    revoked_at: nullable("string"),
    revoke_reason: nullable("string"),
    last_check_at: nullable("string"),
    last_check_status: nullable("string"),
    state: { type: "string", enum: ["active", "expired", "revoked"] },
  },
} as const;

export const customerViewSchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    created_at: { type: "string" },
    licenses: { type: "integer" },
    revoked: { type: "integer" },
    last_check_at: nullable("string"),
  },
} as const;

export const licenseIdParamsSchema = {
  type: "object",
  required: ["id"],
  properties: { id: field("id") },
} as const;

export const revokeBodySchema = {
  type: "object",
  properties: { reason: field("reason") },
} as const;

export const registerBodySchema = {
  type: "object",
  required: ["file"],
  properties: { file: field("file") },
} as const;
