import { z } from "zod";
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { formatZoned, transition, type AlarmInput } from "@mcs/core";
import { SettingsStore, type AlarmFilter, type AlarmRecord } from "@mcs/platform";
import { AlarmAckSchema, AlarmDetailSchema, AlarmListSchema, AlarmQuerySchema, AlarmSchema, type AlarmQuery, type Role } from "@mcs/protocol";
import { badRequest, conflict, notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";
import { activeSeconds, busEventOf, stillPresent } from "./alarm-view.ts";
import { alarmsCsv, CSV_COLUMNS } from "./csv.ts";

/** Who may acknowledge an alarm: whoever watches the plant. */
export const ALARM_ANSWERERS: Role[] = ["admin", "engineer", "operator"];
/** Who may clear (reset) an alarm whose condition is gone. */
export const ALARM_RESETTERS: Role[] = ["admin", "engineer"];

const AlarmParamsSchema = z.object({
  id: z.string().regex(/^[1-9]\d{0,14}$/, "id is an alarm id (a positive whole number)").transform(Number),
});
/** Both answers may leave the body out (Fastify gives null): no comment. */
const AnswerBodySchema = z.preprocess((body) => body ?? {}, AlarmAckSchema);

/**
 * `/api/alarms`: the alarm center. Alarms are raised and cleared by the workers from the
 * readings; here people list them, acknowledge them (ack) and close those whose condition
 * is gone (clear). Every answer goes through the state machine under the alarm's row lock,
 * is audited, and is announced so that workers reload the device's open alarms.
 */
const alarmRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  const tags = ["alarms"];
  const security = SESSION_SECURITY;

  function filterOf(query: AlarmQuery): AlarmFilter {
    if (query.from && query.to && query.from > query.to) throw badRequest(`query.from: ${query.from.toISOString()} is after query.to ${query.to.toISOString()}`);
    return { state: query.state, sn: query.sn, type: query.type, from: query.from?.getTime(), to: query.to?.getTime(), limit: query.limit };
  }

  app.get(
    "",
    {
      schema: {
        tags, security,
        summary: "Alarms, newest first: by state (open = any but closed), device, type, raised in [from, to) (ISO-8601 or Unix seconds); at most limit (200, up to 5000)",
        querystring: AlarmQuerySchema,
        response: { 200: AlarmListSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => ({ data: await app.alarms.list(filterOf(request.query)) }),
  );

  app.get(
    "/export.csv",
    {
      schema: {
        tags, security,
        summary: "The same alarms as the list, as CSV for Excel (UTF-8 with a BOM, a header row, one line per alarm; times as the plant's wall clock with the offset, \"2026-12-04 14:03:05 +08:00\", in the zone of GET /api/settings/plant)",
        querystring: AlarmQuerySchema,
        response: {
          200: { description: "one line per alarm: " + CSV_COLUMNS.join(", "), content: { "text/csv": { schema: z.string() } } },
          ...errorResponses(400, 401),
        },
      },
    },
    async (request, reply) => {
      const now = app.clock.now();
      // Read once per export, not per row.
      const [alarms, timeZone] = await Promise.all([app.alarms.list(filterOf(request.query)), new SettingsStore(app.db).plantTimeZone()]);
      const stamp = formatZoned(now, timeZone).replace(/[-:]/g, "").replace(" ", "-");
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="alarms-${stamp}.csv"`)
        .send(alarmsCsv(alarms, now, timeZone));
    },
  );

  app.get(
    "/:id",
    {
      schema: {
        tags, security,
        summary: "One alarm with its episodes (when its condition held, with peaks), its events, its notifications per channel, and how long its condition lasted (active_s)",
        params: AlarmParamsSchema,
        response: { 200: AlarmDetailSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const alarm = await app.alarms.get(id);
      if (!alarm) throw notFound(`no alarm ${id}`);
      const [episodes, events, notifications, channels] = await Promise.all([app.alarms.episodes(id), app.alarms.events(id), app.outbox.forAlarm(id), app.channels.list()]);
      const names = new Map(channels.map((channel) => [channel.id, channel.name]));
      return {
        ...alarm,
        episodes,
        events,
        notifications: notifications.map((n) => ({ ...n, channel_name: n.channel_id === null ? null : (names.get(n.channel_id) ?? null) })),
        active_s: activeSeconds(alarm, app.clock.now()),
      };
    },
  );

  app.post(
    "/:id/ack",
    {
      onRequest: app.requireRole(...ALARM_ANSWERERS),
      schema: {
        tags, security,
        summary: "Acknowledge an alarm (with a comment); one whose condition is already gone closes. 409 when closed or already acknowledged",
        params: AlarmParamsSchema,
        body: AnswerBodySchema,
        response: { 200: AlarmSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => answer(request, request.params.id, "ack", request.body.comment),
  );

  app.post(
    "/:id/clear",
    {
      onRequest: app.requireRole(...ALARM_RESETTERS),
      schema: {
        tags, security,
        summary: "Clear (reset) an alarm whose condition is gone, answered or not; 409 while the condition is present or when closed",
        params: AlarmParamsSchema,
        body: AnswerBodySchema,
        response: { 200: AlarmSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => answer(request, request.params.id, "reset", request.body.comment),
  );

  /** Why this answer cannot apply to the alarm as it is, or null. */
  function refusal(alarm: AlarmRecord, kind: "ack" | "reset"): string | null {
    if (alarm.state === "closed") return `alarm ${alarm.id} is closed: nothing to ${kind === "ack" ? "acknowledge" : "clear"}`;
    if (kind === "ack" && alarm.state === "acked") return `alarm ${alarm.id} is already acknowledged${alarm.acked_by ? ` by ${alarm.acked_by}` : ""}`;
    if (kind === "reset" && alarm.condition_active) {
      return `${stillPresent(alarm)}: alarm ${alarm.id} can be cleared once its condition is gone${alarm.state === "unacked" ? " (acknowledge it meanwhile)" : ""}`;
    }
    return null;
  }

  async function answer(request: FastifyRequest, id: number, kind: "ack" | "reset", comment: string): Promise<AlarmRecord> {
    const stored = await app.alarms.get(id);
    if (!stored) throw notFound(`no alarm ${id}`);
    const refused = refusal(stored, kind);
    if (refused) throw conflict(refused);
    const actor = actorOf(request);
    const input: AlarmInput = { kind, at: app.clock.now(), by: actor.name, comment };
    const result = await app.alarms.answer(id, (alarm, latching) => transition(alarm, input, latching).events, actor, kind === "ack" ? "alarm.ack" : "alarm.reset", comment);
    if (!result) throw notFound(`no alarm ${id}`);
    // Changed meanwhile (a worker, another operator): the stored alarm says why.
    if (result.events.length === 0) throw conflict(refusal(result.alarm, kind) ?? `alarm ${id} changed meanwhile: nothing to do`);
    try {
      for (const event of result.events) await app.bus.publish("alarm", busEventOf(result.alarm, event));
      await app.bus.publish("alarm.changed", { sn: result.alarm.sn });
    } catch (error) {
      // The database holds the answer; a worker that missed it finds out when it next writes (stale check).
      request.log.warn({ err: error, id }, "could not announce an alarm answer");
    }
    return result.alarm;
  }
};

export default alarmRoutes;
