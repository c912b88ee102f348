import { createPgliteDb, MemoryBus, MemoryCache, migrate } from "@mcs/platform";
import { buildApp } from "./app.ts";
import { openApiToMarkdown, type OpenApiDocument } from "./openapi-markdown.ts";

/** docs/api.md as the routes describe themselves now: the app on an in-memory database, asked for its OpenAPI document. */
export async function apiReference(): Promise<string> {
  const db = await createPgliteDb();
  await migrate(db);
  const app = await buildApp({ db, cache: new MemoryCache(), bus: new MemoryBus(), });
  try {
    const doc = (await app.inject({ method: "GET", url: "/api/docs/json" })).json<OpenApiDocument>();
    return openApiToMarkdown(doc);
  } finally {
    await app.close();
    await db.close();
  }
}
