import type { z } from "zod";

export type FieldErrors = Record<string, string>;

/**
 * Checks a form's body with the server's own schema. Each problem lands on its field (the
 * first path segment); `messages` replaces zod's wording for fields whose schema message is
 * a sentence of its own (an sn pattern, a required login field). zod's own messages follow
 * the app's language (see i18n).
 */
export function validate<S extends z.ZodType>(
  schema: S,
  body: unknown,
  messages: Partial<Record<string, string>> = {},
): { ok: true; data: z.output<S> } | { ok: false; errors: FieldErrors } {
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : "_form";
    errors[field] ??= messages[field] ?? issue.message;
  }
  return { ok: false, errors };
}
