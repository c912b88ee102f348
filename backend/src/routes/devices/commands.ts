import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { onRequestAsyncHookHandler } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import {
  CommandListQuerySchema,
  CommandListSchema,
  CommandRequestSchema,
  CommandStatusSchema,
  CommandViewSchema,
  DEFAULT_COMMAND_EXPIRY_S,
  OtaRequestParamsSchema,
  type OtaParams,
} from "@mcs/protocol";
import { ACK_TIMEOUT_S } from "@mcs/platform";
import { badRequest, conflict, notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { errorResponses, SESSION_SECURITY, SnParamsSchema } from "../../lib/route-schemas.ts";

const CommandParamsSchema = SnParamsSchema.extend({ id: z.uuid("id is a command id (UUID)") });

/**
 * `/api/devices/{sn}/commands`: downlink commands (set_debug, set_calib, ota, reboot).
 * A command is stored pending, published to `mcs/{sn}/cmd` (QoS 1) while the device is
 * online, and ends acked or failed (the device's answer on `mcs/{sn}/ack`) or timeout.
 */
const commandRoutes: FastifyPluginAsyncZod<{ canEdit: onRequestAsyncHookHandler }> = async (app, { canEdit }) => {
  const tags = ["commands"];
  const security = SESSION_SECURITY;

  app.post(
    "/:sn/commands",
    {
      onRequest: canEdit,
      schema: {
        tags, security,
        summary: "Send a command: answered 202 pending; sent while the device is online, else when it comes back (until expires_in_s, default 1 h)",
        params: SnParamsSchema,
        body: CommandRequestSchema,
        response: { 202: CommandStatusSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { sn } = request.params;
      const device = await app.devices.get(sn);
      if (!device) throw notFound(`no device ${sn}`);
      // A disabled device may not log in to the broker: its command could never go out.
      if (!device.enabled) throw conflict(`device ${sn} is disabled`);
      const now = app.clock.now();
      const { cmd, expires_in_s } = request.body;
      const expiresAt = now + (expires_in_s ?? DEFAULT_COMMAND_EXPIRY_S) * 1000;
      const params = cmd === "ota" ? await otaParams(sn, request.body.params, expiresAt) : request.body.params;
      const command = await app.commands.create(
        { id: randomUUID(), sn, cmd, params, expiresAt },
        actorOf(request),
        now,
      );
      await app.commandDispatch.created(sn);
      return reply.code(202).send({ id: command.id, status: command.status });
    },
  );

  /**
   * An `ota` names an uploaded version (the device gets its own signed address, valid
   * while the command waits and for the download after it) or gives all four params of
   * an image hosted elsewhere.
   */
  async function otaParams(sn: string, given: Record<string, unknown>, expiresAt: number): Promise<OtaParams> {
    const parsed = OtaRequestParamsSchema.safeParse(given);
    if (!parsed.success) {
      throw badRequest("params: an ota takes {\"version\"} of an uploaded image, or {\"url\",\"version\",\"size\",\"sha256\"} of one hosted elsewhere (https, 64 hex digits)");
    }
    if ("url" in parsed.data) return parsed.data;
    const firmware = await app.firmware.get(parsed.data.version);
    if (!firmware) throw badRequest(`params.version: no firmware ${parsed.data.version} has been uploaded`);
    if (!app.firmwareUrls.base) throw conflict("devices cannot be given a download address: set MCS_PUBLIC_URL to this server's HTTPS address");
    const url = await app.firmwareUrls.url(firmware.version, sn, expiresAt + ACK_TIMEOUT_S.ota * 1000);
    return { url, version: firmware.version, size: firmware.size, sha256: firmware.sha256 };
  }

  app.get(
    "/:sn/commands/:id",
    {
      schema: {
        tags, security,
        summary: "One command: its status (pending, sent, acked, failed, timeout), the device's message and when each step happened",
        params: CommandParamsSchema,
        response: { 200: CommandViewSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { sn, id } = request.params;
      const command = await app.commands.get(sn, id);
      if (!command) throw notFound(`no command ${id} for device ${sn}`);
      return command;
    },
  );

  app.get(
    "/:sn/commands",
    {
      schema: {
        tags, security,
        summary: "A device's commands, newest first",
        params: SnParamsSchema,
        querystring: CommandListQuerySchema,
        response: { 200: CommandListSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { sn } = request.params;
      if (!(await app.devices.get(sn))) throw notFound(`no device ${sn}`);
      return { data: await app.commands.list(sn, request.query.limit) };
    },
  );
};

export default commandRoutes;
