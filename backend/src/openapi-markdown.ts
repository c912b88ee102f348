/** The parts of an OpenAPI 3.1 document the reference is written from. */
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
}
interface Operation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema; description?: string }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
export interface OpenApiDocument {
  info: { title: string; description?: string; version: string };
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ["get", "post", "put", "patch", "delete"];

/** A schema as a short TypeScript-like type: `{ id: integer, name?: string }`. */
function typeOf(schema: Schema | undefined, depth = 0): string {
  if (!schema) return "any";
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map((each) => typeOf(each, depth)).join(" | ");
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type;
  if (type === "array") return `${typeOf(schema.items, depth)}[]`;
  if (type === "object" || schema.properties) {
    if (!schema.properties) return "object";
    if (depth >= 2) return "{…}";
    const required = new Set(schema.required ?? []);
    return `{ ${Object.entries(schema.properties).map(([name, property]) => `${name}${required.has(name) ? "" : "?"}: ${typeOf(property, depth + 1)}`).join(", ")} }`;
  }
  return type ?? "any";
}

/** An answer with the documented error shape is listed by its status only. */
function isError(schema: Schema | undefined): boolean {
  return Boolean(schema?.properties?.error && Object.keys(schema.properties).length === 1);
}

/**
 * The REST reference (docs/api.md), written from the OpenAPI document the route schemas
 * generate: one section per tag, one entry per operation, with its parameters, body and
 * answers. The same input always gives the same text, so CI can check it is current.
 */
export function openApiToMarkdown(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const path of Object.keys(doc.paths).sort()) {
    for (const method of METHODS) {
      const operation = doc.paths[path]![method];
      if (!operation) continue;
      const lines = [`### \`${method.toUpperCase()} ${path}\``, ""];
      if (operation.summary) lines.push(operation.summary, "");
      lines.push(`- auth: ${operation.security?.length ? "a session (cookie or `Authorization: Bearer <token>`)" : "none"}`);
      for (const parameter of operation.parameters ?? []) {
        lines.push(`- ${parameter.in} \`${parameter.name}\`${parameter.required ? "" : " (optional)"}: ${typeOf(parameter.schema)}${parameter.description ? ` — ${parameter.description}` : ""}`);
      }
      const body = operation.requestBody?.content?.["application/json"]?.schema;
      if (body) lines.push(`- body: \`${typeOf(body)}\``);
      const answers = Object.entries(operation.responses ?? {});
      const ok = answers.filter(([, answer]) => !isError(answer.content?.["application/json"]?.schema));
      const errors = answers.filter(([, answer]) => isError(answer.content?.["application/json"]?.schema)).map(([status]) => status);
      for (const [status, answer] of ok) {
        const schema = answer.content?.["application/json"]?.schema;
        lines.push(`- ${status}: ${schema ? `\`${typeOf(schema)}\`` : "no JSON body"}`);
      }
      if (errors.length) lines.push(`- errors: ${errors.join(", ")} (\`{"error":{"code","message"}}\`)`);
      const tag = operation.tags?.[0] ?? "other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), lines.join("\n")]);
    }
  }
  const sections = [...byTag.keys()].sort().map((tag) => `## ${tag}\n\n${byTag.get(tag)!.join("\n\n")}`);
  return [
    `# ${doc.info.title} REST API ${doc.info.version}`,
    "",
    "Generated from the OpenAPI document at `/api/docs/json` by `npm run docs:api`: do not edit by hand.",
    `${doc.info.description ?? ""} Errors are \`{"error":{"code","message"}}\` with the status named; the live reference with every schema is at \`/api/docs\`.`,
    "",
    ...sections.flatMap((section) => [section, ""]),
  ].join("\n");
}
