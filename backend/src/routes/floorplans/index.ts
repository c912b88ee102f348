import multipart from "@fastify/multipart";
import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import {
  FloorplanDevicesSchema,
  FloorplanListSchema,
  FloorplanPatchSchema,
  FloorplanSchema,
  FloorplanUploadFieldsSchema,
  MAX_FLOORPLAN_BYTES,
  type FloorplanMime,
} from "@mcs/protocol";
import { FloorplanStore, FloorplanUnknownDevicesError, type FloorplanImage } from "@mcs/platform";
import { AppError, badRequest, ERROR_CODES, notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { DEVICE_EDITORS } from "../devices/index.ts";
import { errorResponses, NoContentSchema, SESSION_SECURITY } from "../../lib/route-schemas.ts";
import { sniffImage } from "./image-kind.ts";
import { sanitiseSvg, SvgRejectedError } from "./svg.ts";

const IdParamsSchema = z.object({
  id: z.string().regex(/^[1-9]\d{0,9}$/, "id is a floor plan id (a positive whole number)").transform(Number),
});

const MIB = MAX_FLOORPLAN_BYTES / 1024 / 1024;
const EXTENSIONS: Record<FloorplanMime, string> = { "image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg" };
/**
 * The image answer can never run anything, even an SVG opened on its own: no scripts, no
 * requests (embedded PNG/JPEG data only), inline styles allowed for the drawing's own CSS.
 */
export const FLOORPLAN_IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** The drawing, recognised by its content; an SVG is sanitised. 400/415 say what is wrong with it. */
async function checkedDrawing(bytes: Buffer): Promise<FloorplanImage> {
  const sniffed = sniffImage(bytes);
  switch (sniffed.kind) {
    case "png":
      return { mime: "image/png", image: bytes, width: sniffed.width, height: sniffed.height };
    case "jpeg":
      return { mime: "image/jpeg", image: bytes, width: sniffed.width, height: sniffed.height };
    case "svg":
      try {
        const clean = await sanitiseSvg(sniffed.text, MAX_FLOORPLAN_BYTES);
        return { mime: "image/svg+xml", image: clean.svg, width: clean.width, height: clean.height };
      } catch (error) {
        if (error instanceof SvgRejectedError) throw badRequest(`file: this SVG cannot be used: ${error.message}`);
        throw error;
      }
    case "damaged":
      throw badRequest(`file: ${sniffed.what}; it may be damaged: export the drawing again`);
    case "refused":
      throw new AppError(415, ERROR_CODES.unsupportedMediaType, `file: ${sniffed.what} is not a floor plan: upload a PNG, JPEG or SVG drawing (recognised by its content, not its name)`);
  }
}

/**
 * `/api/floorplans`: plant drawings (PNG, JPEG or sanitised SVG, at most 10 MiB) and where
 * devices sit on them, in per cent of the drawing so that positions hold at any screen
 * size. Anyone with a session reads; admins and engineers change. Every change is audited.
 */
const floorplansRoutes: FastifyPluginAsyncZod = async (app) => {
  await app.register(multipart, { limits: { fileSize: MAX_FLOORPLAN_BYTES, files: 1, fields: 4, fieldSize: 4 * 1024, parts: 6 } });
  const plans = new FloorplanStore(app.db);
  app.addHook("onRequest", app.authenticate);
  const canEdit = app.requireRole(...DEVICE_EDITORS);
  const tags = ["floorplans"];
  const security = SESSION_SECURITY;

  app.post(
    "",
    {
      onRequest: canEdit,
      bodyLimit: MAX_FLOORPLAN_BYTES + 64 * 1024,
      schema: {
        tags, security, consumes: ["multipart/form-data"],
        summary: `Upload a floor plan: multipart fields name and file (PNG, JPEG or SVG, at most ${MIB} MiB; an SVG is sanitised before it is stored)`,
        response: { 201: FloorplanSchema, ...errorResponses(400, 401, 403, 413, 415) },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new AppError(415, ERROR_CODES.unsupportedMediaType, "send the drawing as multipart/form-data with the fields name and file");
      const fields: Record<string, string> = {};
      let image: Buffer | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === "file") {
            if (part.fieldname !== "file") throw badRequest(`file: the drawing goes in the part named "file", not "${part.fieldname}"`);
            image = await part.toBuffer();
          } else {
            if (part.valueTruncated) throw badRequest(`${part.fieldname}: too long`);
            fields[part.fieldname] = String(part.value);
          }
        }
      } catch (error) {
        // The rest of the body was not read: close the connection rather than leave it stalled.
        reply.header("connection", "close");
        if (error instanceof AppError) throw error;
        const { statusCode: status, code } = error as { statusCode?: number; code?: string };
        if (code === "FST_REQ_FILE_TOO_LARGE" || (status === 413 && code === undefined)) throw new AppError(413, ERROR_CODES.tooLarge, `file: the drawing is larger than ${MIB} MiB`);
        if (code === "FST_FILES_LIMIT") throw badRequest("file: send one drawing per upload");
        if (code === "FST_FIELDS_LIMIT" || code === "FST_PARTS_LIMIT") throw badRequest("body: too many parts: send the fields name and file only");
        if (status !== undefined && status >= 400 && status < 500) throw badRequest(`the upload is not a well-formed multipart body: ${(error as Error).message}`);
        throw error;
      }
      const parsed = FloorplanUploadFieldsSchema.safeParse(fields);
      if (!parsed.success) {
        throw badRequest(parsed.error.issues.map((issue) => {
          if (issue.code === "unrecognized_keys") return issue.keys.map((key) => `body.${key}: unknown field`).join("; ");
          return `body${issue.path.map((key) => `.${String(key)}`).join("")}: ${issue.message.replace(/^Invalid input: /, "")}`;
        }).join("; "));
      }
      if (!image || image.length === 0) throw badRequest("file: the drawing is missing or empty");
      const drawing = await checkedDrawing(image);
      const plan = await plans.create(parsed.data.name, drawing, actorOf(request), app.clock.now());
      return reply.code(201).send(plan);
    },
  );

  app.get(
    "",
    { schema: { tags, security, summary: "All floor plans by position, each with its devices (x, y in per cent of the drawing)", response: { 200: FloorplanListSchema, ...errorResponses(401) } } },
    async () => ({ data: await plans.list() }),
  );

  app.get(
    "/:id",
    { schema: { tags, security, summary: "One floor plan with its devices", params: IdParamsSchema, response: { 200: FloorplanSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => found(request.params.id),
  );

  app.get(
    "/:id/image",
    {
      schema: {
        tags, security,
        summary: "The drawing as stored (an SVG sanitised), under a Content-Security-Policy that lets nothing run",
        params: IdParamsSchema,
        response: { 200: z.any().describe("image/png, image/jpeg or image/svg+xml"), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const stored = await plans.image(id);
      if (!stored) throw notFound(`no floor plan ${id}`);
      return reply
        .type(stored.mime)
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", FLOORPLAN_IMAGE_CSP)
        .header("cache-control", "private, max-age=300")
        .header("content-disposition", `inline; filename="floorplan-${id}.${EXTENSIONS[stored.mime]}"`)
        .send(stored.image);
    },
  );

  app.patch(
    "/:id",
    {
      onRequest: canEdit,
      schema: { tags, security, summary: "Rename a floor plan or move it in the list", params: IdParamsSchema, body: FloorplanPatchSchema, response: { 200: FloorplanSchema, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request) => {
      const plan = await plans.update(request.params.id, request.body, actorOf(request), app.clock.now());
      if (!plan) throw notFound(`no floor plan ${request.params.id}`);
      return plan;
    },
  );

  app.delete(
    "/:id",
    {
      onRequest: canEdit,
      schema: { tags, security, summary: "Delete a floor plan and its placements (the devices stay)", params: IdParamsSchema, response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      if (!(await plans.delete(request.params.id, actorOf(request)))) throw notFound(`no floor plan ${request.params.id}`);
      return reply.code(204).send(null);
    },
  );

  app.put(
    "/:id/devices",
    {
      onRequest: canEdit,
      schema: {
        tags, security,
        summary: "Replace the plan's placements: x, y in per cent (0–100) of the drawing's width and height; a device on another plan moves here",
        params: IdParamsSchema,
        body: FloorplanDevicesSchema,
        response: { 200: FloorplanSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { devices } = request.body;
      try {
        const plan = await plans.setDevices(id, devices, actorOf(request), app.clock.now());
        if (!plan) throw notFound(`no floor plan ${id}`);
        return plan;
      } catch (error) {
        if (error instanceof FloorplanUnknownDevicesError) {
          const unknown = new Set(error.sns);
          const lines = devices.flatMap((device, i) => (unknown.has(device.sn) ? [`body.devices.${i}.sn: no device ${device.sn}`] : []));
          if (lines.length > 5) lines.splice(5, lines.length, `and ${lines.length - 5} more`);
          throw badRequest(lines.join("; "));
        }
        throw error;
      }
    },
  );

  async function found(id: number) {
    const plan = await plans.get(id);
    if (!plan) throw notFound(`no floor plan ${id}`);
    return plan;
  }
};

export default floorplansRoutes;
