import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { maskStorageSettings, s3ConfigOf, SettingsStore, testS3Storage, type StorageSettingsRecord } from "@mcs/platform";
import {
  canonicalTimeZone,
  PlantSettingsSchema,
  RetentionSettingsInputSchema,
  RetentionSettingsSchema,
  SECRET_MASK,
  SettingsSchema,
  StorageSettingsInputSchema,
  StorageSettingsViewSchema,
  StorageTestResultSchema,
  type StorageSettingsInput,
  type StorageSettingsView,
} from "@mcs/protocol";
import { badRequest } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";

/** How long a storage test may take, all of it. */
const STORAGE_TEST_TIMEOUT_MS = 10_000;


const NO_STORAGE: StorageSettingsView = {
  endpoint: null, region: "auto", bucket: null, access_key_id: null, secret_access_key: null, force_path_style: true, prefix: "",
};

/** The storage as answered: the secret is write-only. */
function storageView(record: StorageSettingsRecord | null): StorageSettingsView {
  return record ? maskStorageSettings(record) : NO_STORAGE;
}

/** A storage's answer may quote what it was sent: the secret is blotted out before the answer leaves. */
function withoutSecret(text: string, secret: string): string {
  return secret.length >= 4 ? text.split(secret).join(SECRET_MASK) : text;
}

/**
 * `/api/settings`: the object storage archives go to (with a connection test), how long
 * readings stay hot, the plant's time zone (the license has its own routes, `/api/license`). Admins and engineers read; admins change;
 * the plant's time zone (`/plant`) every logged-in user and kiosk token reads.
 * The storage's secret key is write-only: answers and audit rows show "********".
 */
const settingsRoutes: FastifyPluginAsyncZod<{ defaultHotDays: number }> = async (app, options) => {
  const settings = new SettingsStore(app.db);
  app.addHook("onRequest", app.authenticate);
  const readers = app.requireRole("admin", "engineer");
  const admins = app.requireRole("admin");
  const tags = ["settings"];
  const security = SESSION_SECURITY;

  /** The record to store or test: a secret left out or sent as "********" is the stored one. */
  async function withStoredSecret(input: StorageSettingsInput): Promise<StorageSettingsRecord> {
    const { secret_access_key: given, ...rest } = input;
    let secret = given;
    if (given === undefined || given === SECRET_MASK) {
      secret = (await settings.storage())?.secret_access_key;
      if (!secret) {
        throw badRequest(`body.secret_access_key: ${given === SECRET_MASK ? `"${SECRET_MASK}" stands for the stored secret, but none is stored` : "required (no secret is stored yet)"}: give the secret access key itself`);
      }
    }
    return { ...rest, secret_access_key: secret! };
  }

  app.get(
    "",
    {
      onRequest: readers,
      schema: { tags, security, summary: "Object storage (secret shown as \"********\") and data retention (the license: GET /api/license)", response: { 200: SettingsSchema, ...errorResponses(401, 403) } },
    },
    async () => ({ storage: storageView(await settings.storage()), retention: await settings.retention({ hot_days: options.defaultHotDays }) }),
  );

  app.get(
    "/plant",
    {
      schema: {
        tags, security,
        summary: "The plant's time zone (IANA, default Asia/Shanghai): every page, export and notification writes times in it. Every logged-in user and the big screen's kiosk token may read it",
        response: { 200: PlantSettingsSchema, ...errorResponses(401) },
      },
    },
    async () => ({ time_zone: await settings.plantTimeZone((zone) => app.log.warn({ zone }, "the stored plant time zone is unusable: Asia/Shanghai is used")) }),
  );

  app.put(
    "/plant",
    {
      onRequest: admins,
      schema: {
        tags, security,
        summary: "Set the plant's time zone: an IANA name such as Asia/Shanghai (stored as its canonical spelling)",
        body: PlantSettingsSchema,
        response: { 200: PlantSettingsSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const timeZone = canonicalTimeZone(request.body.time_zone);
      if (timeZone === null) throw badRequest(`body.time_zone: ${JSON.stringify(request.body.time_zone)} is not a known IANA time zone`);
      return settings.setPlant({ time_zone: timeZone }, actorOf(request), app.clock.now());
    },
  );

  app.put(
    "/storage",
    {
      onRequest: admins,
      schema: {
        tags, security,
        summary: "Set the object storage (S3-compatible: Cloudflare R2, MinIO, AWS S3). The secret left out or sent as \"********\" keeps the stored one",
        body: StorageSettingsInputSchema,
        response: { 200: StorageSettingsViewSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const record = await withStoredSecret(request.body);
      return storageView(await settings.setStorage(record, actorOf(request), app.clock.now()));
    },
  );

  app.put(
    "/retention",
    {
      onRequest: admins,
      schema: {
        tags, security,
        summary: "How many days readings stay in the hot tables (1–3650), whether the nightly archive runs (to the object storage, or MCS_DATA_DIR/archive without one), and how many days alarms and the audit log stay (30–3650)",
        body: RetentionSettingsInputSchema,
        response: { 200: RetentionSettingsSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      return settings.setRetention(request.body, actorOf(request), app.clock.now());
    },
  );

  app.post(
    "/storage/test",
    {
      onRequest: admins,
      schema: {
        tags, security,
        summary: "Test the object storage: HeadBucket, then write, read back and delete a probe object under the prefix (10 s at most). Without a body the stored settings are tested; with one, those (before saving them)",
        // No body (Fastify passes null): the stored settings.
        body: StorageSettingsInputSchema.nullish(),
        response: { 200: StorageTestResultSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      let record: StorageSettingsRecord;
      if (request.body === undefined || request.body === null) {
        const stored = await settings.storage();
        if (!stored) throw badRequest("body: no object storage is set up yet: send the settings to test");
        record = stored;
      } else {
        record = await withStoredSecret(request.body);
      }
      const outcome = await testS3Storage(s3ConfigOf(record), { timeoutMs: STORAGE_TEST_TIMEOUT_MS, now: () => app.clock.now() });
      request.log.info({ ok: outcome.ok, endpoint: record.endpoint, bucket: record.bucket }, "object storage test");
      return { ok: outcome.ok, detail: withoutSecret(outcome.detail, record.secret_access_key) };
    },
  );
};

export default settingsRoutes;
