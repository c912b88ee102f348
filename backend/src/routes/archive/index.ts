import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { parseArchiveKey } from "@mcs/core";
import { ArchiveStore, describeStoreError, openArchiveStore, RestoreError, restoreDay, SettingsStore, TelemetryDays, type ObjectStore } from "@mcs/platform";
import {
  ArchiveObjectListSchema, ArchiveRestoreInputSchema, ArchiveRestoreResultSchema, ArchiveRunInputSchema, ArchiveRunListSchema, type ArchiveObject,
} from "@mcs/protocol";
import { z } from "zod";
import { AppError, badRequest, notFound, unavailable } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";

export interface ArchiveRoutesOptions {
  /** `MCS_DATA_DIR`: the archive's folder when no object storage is set up. */
  dataDir: string;
}

const ObjectQuerySchema = z.object({ key: z.string().min(1).max(300) });

/**
 * `/api/archive` (docs/archive.md): runs are queued here and run by a worker (02:00, or
 * at once when asked); what is stored is listed and read from the store itself; a day is
 * restored here, at once. Admins and engineers read; admins run and restore.
 */
const archiveRoutes: FastifyPluginAsyncZod<ArchiveRoutesOptions> = async (app, options) => {
  const runs = new ArchiveStore(app.db);
  const settings = new SettingsStore(app.db);
  const telemetry = new TelemetryDays(app.db);
  app.addHook("onRequest", app.authenticate);
  const readers = app.requireRole("admin", "engineer");
  const admins = app.requireRole("admin");
  const tags = ["archive"];
  const security = SESSION_SECURITY;

  /** The store, or 503 naming what is wrong with it; closed after `use`. */
  async function withStore<T>(use: (store: ObjectStore) => Promise<T>): Promise<T> {
    const store = await openArchiveStore(settings, options.dataDir);
    try {
      return await use(store);
    } catch (error) {
      if (error instanceof AppError || error instanceof RestoreError) throw error;
      throw unavailable(`the archive's storage could not be used: ${describeStoreError(store, error)}`);
    } finally {
      await store.close();
    }
  }

  app.post(
    "/run",
    {
      onRequest: admins,
      schema: {
        tags, security,
        summary: "Archive now: every whole day before `before` (default: older than the retention) to the object storage, then free it locally. A worker starts it within seconds",
        body: ArchiveRunInputSchema.nullish(),
        response: { 202: z.object({ id: z.number().int() }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const before = request.body?.before ?? null;
      if (before !== null && Date.parse(`${before}T00:00:00Z`) > app.clock.now()) throw badRequest(`body.before: ${before} is in the future: only whole past days are archived`);
      const actor = actorOf(request);
      const id = await runs.queue({ trigger: "api", by: actor.name, ip: actor.ip, before }, app.clock.now());
      return reply.code(202).send({ id: id! });
    },
  );

  app.get(
    "/runs",
    { onRequest: readers, schema: { tags, security, summary: "The archive runs, newest first, with what each did and how it ended", response: { 200: ArchiveRunListSchema, ...errorResponses(401, 403) } } },
    async () => ({ data: (await runs.runs()).map(({ before: _before, ...run }) => run) }),
  );

  app.get(
    "/objects",
    {
      onRequest: readers,
      schema: { tags, security, summary: "What the archive holds, read from the store (object storage or the local folder)", response: { 200: ArchiveObjectListSchema, ...errorResponses(401, 403, 503) } },
    },
    async () =>
      withStore(async (store) => {
        const data: ArchiveObject[] = [];
        for (const object of await store.list("archive/")) {
          const parsed = parseArchiveKey(object.key);
          if (parsed) data.push({ ...object, ...parsed });
        }
        return { target: store.target, data };
      }),
  );

  app.get(
    "/object",
    {
      onRequest: readers,
      schema: { tags, security, summary: "One archive object's bytes (for the analysis page)", querystring: ObjectQuerySchema, response: errorResponses(400, 401, 403, 404, 503) },
    },
    async (request, reply) => {
      const { key } = request.query;
      if (!parseArchiveKey(key)) throw badRequest(`query.key: ${JSON.stringify(key)} is not an archive key (archive/YYYY/MM/sensor_data_YYYYMMDD.csv.gz and the like)`);
      const store = await openArchiveStore(settings, options.dataDir);
      let stream;
      try {
        stream = await store.getStream(key);
      } catch (error) {
        await store.close();
        throw unavailable(`the archive's storage could not be used: ${describeStoreError(store, error)}`);
      }
      if (!stream) {
        await store.close();
        throw notFound(`no object ${key} in ${store.target}`);
      }
      stream.once("close", () => void store.close());
      const name = key.split("/").at(-1)!;
      return reply
        .header("content-type", key.endsWith(".json") ? "application/json" : "application/gzip")
        .header("content-disposition", `attachment; filename="${name}"`)
        // Already compressed: the compress plugin must not gzip it again.
        .header("content-encoding", "identity")
        // A stream is piped as it is; the typed answers describe the JSON errors only.
        .send(stream as never);
    },
  );

  app.post(
    "/restore",
    {
      onRequest: admins,
      schema: {
        tags, security,
        summary: "Load an archived day back into the database (idempotent: each reading is stored once). It then stays for the retention's hot days",
        body: ArchiveRestoreInputSchema,
        response: { 200: ArchiveRestoreResultSchema, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { day } = request.body;
      const actor = actorOf(request);
      try {
        const result = await withStore((store) => restoreDay(store, telemetry, day));
        await runs.recordRestore(day, actor.name, actor.ip ?? null, result, app.clock.now());
        request.log.info({ day, ...result }, "archived day restored");
        return { day, ...result };
      } catch (error) {
        if (error instanceof RestoreError) throw error.missing ? notFound(error.message) : badRequest(error.message);
        throw error;
      }
    },
  );
};

export default archiveRoutes;
