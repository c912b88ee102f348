import { z } from "zod";
import { ErrorBodySchema, SN_PATTERN } from "@mcs/protocol";

/** Error answers of a route, for its schema (and so for OpenAPI). */
export function errorResponses<const S extends number>(...statuses: S[]): Record<S, typeof ErrorBodySchema> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBodySchema])) as Record<S, typeof ErrorBodySchema>;
}

/** Routes that need a session accept either of these. */
export const SESSION_SECURITY: { [scheme: string]: string[] }[] = [{ bearer: [] }, { cookie: [] }];

export const SnParamsSchema = z.object({
  sn: z.string().regex(SN_PATTERN, "sn is 1–32 letters, digits, '_' or '-'"),
});

/** An empty answer (204). */
export const NoContentSchema = z.null().describe("no content");
