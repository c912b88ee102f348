import { parse } from "csv-parse/sync";
import { z } from "zod";
import type { onRequestAsyncHookHandler } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { safeAlarmFields } from "@mcs/core";
import { DeviceCreateSchema } from "@mcs/protocol";
import { DeviceConflictError, DeviceInvalidError } from "@mcs/platform";
import { badRequest } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { newDeviceSecret } from "../../lib/device-secret.ts";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";

const MAX_ROWS = 2000;
export const MAX_DEVICE_CSV_BYTES = 2 * 1024 * 1024;
/** The columns a file may have, in the template's order; only `sn` is required. */
const COLUMNS = [
  "sn", "name", "gas", "unit", "k", "b", "t_comp", "t_ref", "high_limit", "high_limit_2", "low_limit", "low_limit_2", "deadband",
  "on_delay_samples", "off_delay_samples", "latching", "low_battery_v", "stuck_samples", "range_max", "report_interval_s", "calib_due", "enabled",
  "monitor_only", "monitor_reason",
] as const;
const TEXT = new Set(["sn", "name", "gas", "unit", "calib_due", "monitor_reason"]);
const BOOLEAN = new Set(["latching", "enabled", "monitor_only"]);

const ImportRowSchema = z.object({
  /** The line in the file (the header is line 1). */
  line: z.number().int(),
  sn: z.string().nullable(),
  status: z.enum(["created", "valid", "error"]),
  error: z.string().nullable(),
  /** Shown this once, for devices created now. */
  mqtt_password: z.string().nullable(),
  /** The alarm fields the row left empty, filled from the gas preset. */
  preset_applied: z.array(z.string()),
});
const ImportReportSchema = z.object({
  created: z.number().int(),
  errors: z.number().int(),
  rows: z.array(ImportRowSchema),
});
type ImportRow = z.infer<typeof ImportRowSchema>;

/**
 * `POST /api/devices/import` (text/csv): registers many devices at once, row by row; the
 * answer reports each row (created, or why not) with the new devices' MQTT passwords, shown
 * this once. `?dry_run=true` only checks. A file saved by Excel (UTF-8 with BOM, `;` or `,`)
 * is read as it is. `GET /api/devices/import/template.csv` gives the columns.
 */
const importRoutes: FastifyPluginAsyncZod<{ canEdit: onRequestAsyncHookHandler }> = async (app, { canEdit }) => {
  app.addContentTypeParser(["text/csv", "application/csv"], { parseAs: "string", bodyLimit: MAX_DEVICE_CSV_BYTES }, (_request, body, done) => done(null, body));

  app.get(
    "/import/template.csv",
    { schema: { tags: ["devices"], security: SESSION_SECURITY, summary: "The CSV columns bulk import understands, with one example row", response: { 200: z.string(), ...errorResponses(401) } } },
    async (_request, reply) =>
      reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", 'attachment; filename="devices-template.csv"')
        .send(`\uFEFF${COLUMNS.join(",")}\nA001,储罐区 1 号,CO,ppm,1,0,0,25,17,34,,,2,1,1,false,3.5,,1000,10,2027-06-30,true,false,\n`),
  );

  app.post(
    "/import",
    {
      onRequest: canEdit,
      bodyLimit: MAX_DEVICE_CSV_BYTES,
      schema: {
        tags: ["devices"], security: SESSION_SECURITY, consumes: ["text/csv"],
        summary: `Register devices from a CSV file (header row of field names, at most ${MAX_ROWS} rows); each row is reported`,
        querystring: z.object({ dry_run: z.enum(["true", "false"]).default("false") }),
        body: z.string().describe("text/csv"),
        response: { 200: ImportReportSchema, ...errorResponses(400, 401, 403, 413, 415) },
      },
    },
    async (request) => {
      const records = readCsv(request.body);
      const dryRun = request.query.dry_run === "true";
      const rows: ImportRow[] = [];
      const seen = new Set<string>();
      for (const [index, record] of records.entries()) {
        const line = index + 2;
        const parsed = DeviceCreateSchema.safeParse(toFields(record));
        const sn = typeof record.sn === "string" && record.sn.trim() !== "" ? record.sn.trim() : null;
        if (!parsed.success) {
          rows.push({ line, sn, status: "error", error: parsed.error.issues.map((issue) => `${issue.path.join(".") || "row"}: ${issue.message}`).join("; "), mqtt_password: null, preset_applied: [] });
          continue;
        }
        if (seen.has(parsed.data.sn)) {
          rows.push({ line, sn, status: "error", error: `sn: ${parsed.data.sn} appears twice in the file`, mqtt_password: null, preset_applied: [] });
          continue;
        }
        seen.add(parsed.data.sn);
        if (dryRun) {
          const exists = await app.devices.get(parsed.data.sn);
          const safe = safeAlarmFields({ gas: "CH4", unit: "%LEL", ...parsed.data });
          const error = exists ? `sn: device ${parsed.data.sn} already exists` : safe.ok ? null : safe.message;
          rows.push({ line, sn, status: error ? "error" : "valid", error, mqtt_password: null, preset_applied: safe.ok ? safe.applied : [] });
          continue;
        }
        const limit = await app.license.deviceLimitReached();
        if (limit) {
          rows.push({ line, sn, status: "error", error: limit, mqtt_password: null, preset_applied: [] });
          continue;
        }
        const secret = newDeviceSecret();
        try {
          const device = await app.devices.create(parsed.data, secret.hash, actorOf(request));
          await app.deviceEvents.changed(parsed.data.sn, "created");
          rows.push({ line, sn, status: "created", error: null, mqtt_password: secret.password, preset_applied: device.preset_applied });
        } catch (error) {
          if (error instanceof DeviceConflictError) rows.push({ line, sn, status: "error", error: `sn: device ${parsed.data.sn} already exists`, mqtt_password: null, preset_applied: [] });
          else if (error instanceof DeviceInvalidError) rows.push({ line, sn, status: "error", error: error.message, mqtt_password: null, preset_applied: [] });
          else throw error;
        }
      }
      return { created: rows.filter((row) => row.status === "created").length, errors: rows.filter((row) => row.status === "error").length, rows };
    },
  );
};

function readCsv(text: string): Record<string, string>[] {
  const body = text.replace(/^\uFEFF/, "");
  const firstLine = body.slice(0, body.indexOf("\n") === -1 ? undefined : body.indexOf("\n"));
  // Excel in a Chinese or European locale may save with semicolons.
  const delimiter = firstLine.includes(";") && !firstLine.includes(",") ? ";" : ",";
  let records: Record<string, string>[];
  try {
    records = parse(body, { columns: (header: string[]) => header.map((name) => name.trim()), delimiter, skip_empty_lines: true, trim: true, bom: true, relax_column_count: false });
  } catch (error) {
    throw badRequest(`body: not a readable CSV file: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (records.length === 0) throw badRequest("body: the file has a header row but no devices");
  const unknown = Object.keys(records[0]!).filter((name) => !(COLUMNS as readonly string[]).includes(name));
  if (unknown.length > 0) throw badRequest(`body: unknown columns ${unknown.join(", ")}; the columns are ${COLUMNS.join(", ")}`);
  if (!Object.keys(records[0]!).includes("sn")) throw badRequest("body: the header row must name the column sn");
  if (records.length > MAX_ROWS) throw badRequest(`body: at most ${MAX_ROWS} devices per file (this one has ${records.length})`);
  return records;
}

/** A CSV row as a device body: an empty cell is not given (the default applies); numbers and yes/no as typed values. */
function toFields(record: Record<string, string>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(record)) {
    if (raw === "") continue;
    if (TEXT.has(name)) fields[name] = raw;
    else if (BOOLEAN.has(name)) fields[name] = /^(true|yes|1|是)$/i.test(raw) ? true : /^(false|no|0|否)$/i.test(raw) ? false : raw;
    else fields[name] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return fields;
}

export default importRoutes;
