import { z } from "zod";
import type { FastifyBaseLogger } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { CHANNEL_SENDERS, SettingsStore, type ChannelInput, type ChannelRecord, type NotificationMessage, type SendResult } from "@mcs/platform";
import { ChannelCreateSchema, ChannelListSchema, ChannelPatchSchema, ChannelTestResultSchema, ChannelViewSchema } from "@mcs/protocol";
import { badRequest, notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { errorResponses, NoContentSchema, SESSION_SECURITY } from "../../lib/route-schemas.ts";
import { DEVICE_EDITORS } from "../devices/index.ts";
import { checkConfig, checkSchedule, redactChannel, toChannel, withoutSecretValues } from "./channel-config.ts";

const ChannelParamsSchema = z.object({
  id: z.string().regex(/^[1-9]\d{0,9}$/, "id is a channel id (a positive whole number)").transform(Number),
});

/** How long a test waits for the far end. */
const TEST_TIMEOUT_MS = 10_000;

/**
 * `/api/channels`: where alarm notifications go (e-mail, DingTalk, Feishu, WeCom, a webhook,
 * SMS) and the rules of who hears what when. Secrets in a channel's config are write-only:
 * no answer and no audit row holds them. Every change is announced so workers reload.
 */
const channelRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  const canEdit = app.requireRole(...DEVICE_EDITORS);
  const tags = ["channels"];
  const security = SESSION_SECURITY;

  async function announce(id: number, log: FastifyBaseLogger): Promise<void> {
    await app.bus.publish("channels.changed", { id }).catch((error: unknown) => {
      log.warn({ err: error, id }, "could not announce a channel change; the workers' periodic reload will pick it up");
    });
  }

  app.get(
    "",
    { schema: { tags, security, summary: "All notification channels (secrets shown as \"********\")", response: { 200: ChannelListSchema, ...errorResponses(401) } } },
    async () => ({ data: (await app.channels.list()).map(toChannel) }),
  );

  app.post(
    "",
    {
      onRequest: canEdit,
      schema: {
        tags, security,
        summary: "Add a channel; config is checked against its type (a webhook's is {\"url\",\"secret\"}); without rules it hears every alarm at every hour",
        body: ChannelCreateSchema,
        response: { 201: ChannelViewSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const config = checkConfig(body.type, body.config, null);
      checkSchedule(body.schedule);
      const input: ChannelInput = { ...body, config };
      const channel = await app.channels.create(input, actorOf(request), redactChannel, app.clock.now());
      await announce(channel.id, request.log);
      return reply.code(201).send(toChannel(channel));
    },
  );

  app.get(
    "/:id",
    {
      schema: { tags, security, summary: "One channel (secrets shown as \"********\")", params: ChannelParamsSchema, response: { 200: ChannelViewSchema, ...errorResponses(400, 401, 404) } },
    },
    async (request) => toChannel(await found(request.params.id)),
  );

  app.patch(
    "/:id",
    {
      onRequest: canEdit,
      schema: {
        tags, security,
        summary: "Change a channel. A config given replaces the stored one, except secrets left out or sent as \"********\": those are kept",
        params: ChannelParamsSchema,
        body: ChannelPatchSchema,
        response: { 200: ChannelViewSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const stored = await found(id);
      const { config: given, ...rest } = request.body;
      const type = rest.type ?? stored.type;
      const patch: Partial<ChannelInput> = rest;
      if (given !== undefined) {
        patch.config = checkConfig(type, given, type === stored.type ? stored.config : null);
      } else if (type !== stored.type) {
        throw badRequest(`body.config: a channel that becomes ${type} needs a config for ${type}`);
      }
      checkSchedule(rest.schedule);
      const channel = await app.channels.update(id, patch, actorOf(request), redactChannel, app.clock.now());
      if (!channel) throw notFound(`no channel ${id}`);
      await announce(id, request.log);
      return toChannel(channel);
    },
  );

  app.delete(
    "/:id",
    {
      onRequest: canEdit,
      schema: { tags, security, summary: "Delete a channel", params: ChannelParamsSchema, response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!(await app.channels.delete(id, actorOf(request), redactChannel))) throw notFound(`no channel ${id}`);
      await announce(id, request.log);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/:id/test",
    {
      onRequest: canEdit,
      schema: {
        tags, security,
        summary: "Send a test message through the channel with its stored config (even when disabled); the answer is what the far end said",
        params: ChannelParamsSchema,
        response: { 200: ChannelTestResultSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const channel = await found(request.params.id);
      const result = await sendTest(channel, actorOf(request).name);
      return { ok: result.ok, detail: withoutSecretValues(result.detail, channel.type, channel.config) };
    },
  );

  async function found(id: number): Promise<ChannelRecord> {
    const channel = await app.channels.get(id);
    if (!channel) throw notFound(`no channel ${id}`);
    return channel;
  }

  async function sendTest(channel: ChannelRecord, by: string): Promise<SendResult> {
    const now = app.clock.now();
    const zh = channel.locale === "zh-CN";
    const message: NotificationMessage = {
      locale: channel.locale,
      timeZone: await new SettingsStore(app.db).plantTimeZone(),
      notices: [{
        alarmId: 0, sn: "TEST", deviceName: zh ? "测试" : "test", gas: null, unit: null, type: "HIGH", level: 1, kind: "test",
        value: null, limit: null, at: now,
        reason: zh ? `${by} 发送的测试消息（通道 ${channel.name}）` : `test message sent by ${by} (channel ${channel.name})`,
      }],
    };
    try {
      return await CHANNEL_SENDERS[channel.type].send(channel.config, message, { timeoutMs: TEST_TIMEOUT_MS, now: () => app.clock.now() });
    } catch (error) {
      // Senders answer their failures; this is a bug in one, told as a failed test.
      app.log.error({ err: error, channel: channel.id }, "a channel sender threw");
      return { ok: false, detail: `could not send: ${error instanceof Error ? error.message : String(error)}`, retryable: false };
    }
  }
};

export default channelRoutes;
