import multipart from "@fastify/multipart";
import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import {
  FirmwareListSchema,
  FirmwareSchema,
  FirmwareUploadFieldsSchema,
  FirmwareVersionSchema,
  MAX_FIRMWARE_BYTES,
  RolloutRequestSchema,
  RolloutSchema,
} from "@mcs/protocol";
import { FirmwareConflictError, FirmwareInUseError, RolloutConflictError, RolloutDevicesError } from "@mcs/platform";
import { AppError, badRequest, conflict, ERROR_CODES, forbidden, notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { DEVICE_EDITORS } from "../devices/index.ts";
import { errorResponses, NoContentSchema, SESSION_SECURITY } from "../../lib/route-schemas.ts";

const VersionParamsSchema = z.object({ version: FirmwareVersionSchema });
const SignedQuerySchema = z.object({
  sn: z.string(),
  exp: z.coerce.number().int(),
  sig: z.string().max(128),
});

/**
 * `/api/firmware`: OTA images (multipart upload with `version`, `notes` and the image as
 * `file`; the server computes its SHA-256), their signed download for devices, and
 * rollouts of a version to a selection of devices.
 */
const firmwareRoutes: FastifyPluginAsyncZod = async (app) => {
  await app.register(multipart, { limits: { fileSize: MAX_FIRMWARE_BYTES, files: 1, fields: 4, fieldSize: 16 * 1024, parts: 6 } });
  const canEdit = app.requireRole(...DEVICE_EDITORS);
  const authenticated = [app.authenticate];
  const editors = [app.authenticate, canEdit];
  const tags = ["firmware"];
  const security = SESSION_SECURITY;

  app.post(
    "",
    {
      onRequest: editors,
      bodyLimit: MAX_FIRMWARE_BYTES + 64 * 1024,
      schema: {
        tags, security, consumes: ["multipart/form-data"],
        summary: `Upload a firmware image: multipart fields version, notes, and file (at most ${MAX_FIRMWARE_BYTES / 1024 / 1024} MiB)`,
        response: { 201: FirmwareSchema, ...errorResponses(400, 401, 403, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new AppError(415, ERROR_CODES.unsupportedMediaType, "send the image as multipart/form-data with the fields version, notes and file");
      const fields: Record<string, string> = {};
      let image: Buffer | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === "file") {
            if (part.fieldname !== "file") throw badRequest(`file: the image goes in the part named "file", not "${part.fieldname}"`);
            image = await part.toBuffer();
          } else {
            fields[part.fieldname] = String(part.value);
          }
        }
      } catch (error) {
        // The rest of the body was not read: close the connection rather than leave it stalled.
        reply.header("connection", "close");
        if (error instanceof AppError) throw error;
        const status = (error as { statusCode?: number }).statusCode;
        if (status === 413) throw new AppError(413, ERROR_CODES.tooLarge, `file: the image is larger than ${MAX_FIRMWARE_BYTES / 1024 / 1024} MiB`);
        if (status !== undefined && status >= 400 && status < 500) throw badRequest(`the upload is not a well-formed multipart body: ${(error as Error).message}`);
        throw error;
      }
      const parsed = FirmwareUploadFieldsSchema.safeParse(fields);
      if (!parsed.success) throw badRequest(parsed.error.issues.map((issue) => `body${issue.path.map((key) => `.${String(key)}`).join("")}: ${issue.message}`).join("; "));
      if (!image || image.length === 0) throw badRequest("file: the firmware image is missing or empty");
      try {
        const firmware = await app.firmware.create({ ...parsed.data, image }, actorOf(request), app.clock.now());
        return reply.code(201).send(firmware);
      } catch (error) {
        if (error instanceof FirmwareConflictError) throw conflict(`firmware ${parsed.data.version} already exists: give the new image a new version`);
        throw error;
      }
    },
  );

  app.get(
    "",
    { onRequest: authenticated, schema: { tags, security, summary: "The uploaded images, newest first", response: { 200: FirmwareListSchema, ...errorResponses(401) } } },
    async () => ({ data: await app.firmware.list() }),
  );

  app.get(
    "/:version",
    { onRequest: authenticated, schema: { tags, security, summary: "One image's version, notes, size and SHA-256", params: VersionParamsSchema, response: { 200: FirmwareSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => {
      const firmware = await app.firmware.get(request.params.version);
      if (!firmware) throw notFound(`no firmware ${request.params.version}`);
      return firmware;
    },
  );

  app.delete(
    "/:version",
    { onRequest: editors, schema: { tags, security, summary: "Delete an image no rollout has used", params: VersionParamsSchema, response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 404, 409) } } },
    async (request, reply) => {
      try {
        if (!(await app.firmware.delete(request.params.version, actorOf(request)))) throw notFound(`no firmware ${request.params.version}`);
      } catch (error) {
        if (error instanceof FirmwareInUseError) throw conflict(error.message);
        throw error;
      }
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/:version/image",
    {
      // The query holds the signature: keep it out of the request log.
      logLevel: "warn",
      schema: {
        tags,
        summary: "The image, for the device the signed address names (no session: the signature is the credential)",
        params: VersionParamsSchema,
        querystring: SignedQuerySchema,
        response: { 200: z.any().describe("application/octet-stream"), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const { version } = request.params;
      const refusal = await app.firmwareUrls.refusal(version, request.query, app.clock.now());
      if (refusal) throw forbidden(refusal);
      const image = await app.firmware.image(version);
      if (!image) throw notFound(`no firmware ${version}`);
      request.log.warn({ version, sn: request.query.sn, ip: request.ip }, "firmware download");
      return reply
        .type("application/octet-stream")
        .header("content-disposition", `attachment; filename="firmware-${version}.bin"`)
        .header("cache-control", "no-store")
        .send(image);
    },
  );

  app.post(
    "/:version/rollouts",
    {
      onRequest: editors,
      schema: {
        tags, security,
        summary: "Roll the version out to these devices, at most max_concurrent updating at once; halts after max_failures failures",
        params: VersionParamsSchema,
        body: RolloutRequestSchema,
        response: { 201: RolloutSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const firmware = await app.firmware.get(request.params.version);
      if (!firmware) throw notFound(`no firmware ${request.params.version}`);
      if (!app.firmwareUrls.base) throw conflict("devices cannot be given a download address: set MCS_PUBLIC_URL to this server's HTTPS address");
      let rollout;
      try {
        rollout = await app.rollouts.create(firmware, request.body, actorOf(request), app.clock.now());
      } catch (error) {
        if (error instanceof RolloutDevicesError) throw badRequest(`sns: ${error.message}`);
        if (error instanceof RolloutConflictError) throw conflict(`sns: ${error.message}`);
        throw error;
      }
      await app.advanceRollouts();
      return reply.code(201).send((await app.rollouts.get(rollout.id)) ?? rollout);
    },
  );
};

export default firmwareRoutes;
