import { resolve } from "node:path";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65_535);
const optionalUrl = (schemes: string[]) =>
  z
    .string()
    .trim()
    .transform((value) => value || undefined)
    .pipe(
      z
        .url()
        .refine((value) => schemes.some((scheme) => value.startsWith(`${scheme}://`)), `must start with ${schemes.join("://, ")}://`)
        .optional(),
    )
    .optional();

const EnvSchema = z.object({
  HTTP_PORT: port.default(8080),
  HTTP_HOST: z.string().default("0.0.0.0"),
  MQTT_TLS_PORT: port.default(8883),
  /**
   * Embedded mode: the API (and the firmware downloads devices make) over HTTPS with the
   * certificate of the MQTT listener. In services mode nginx terminates HTTPS instead.
   */
  HTTPS_PORT: port.default(8443),
  /**
   * Where devices reach this server over HTTPS, the base of firmware download addresses,
   * e.g. `https://gas.plant.example`. Embedded default: `https://localhost:{HTTPS_PORT}`.
   */
  MCS_PUBLIC_URL: optionalUrl(["https"]),
  MCS_DATA_DIR: z.string().default("./data"),
  MCS_ADMIN_PASSWORD: z.string().min(8, "must be at least 8 characters").optional(),
  DATABASE_URL: optionalUrl(["postgres", "postgresql"]),
  REDIS_URL: optionalUrl(["redis", "rediss"]),
  /**
   * The broker, with this process's own account: the worker logs in as `mcs-worker`
   * (ingest, and the commands it sends when a device comes back), the backend as
   * `mcs-backend` (the commands it sends). Mosquitto has no anonymous access.
   */
  MQTT_URL: optionalUrl(["mqtt", "mqtts"]).refine(
    (value) => value === undefined || (new URL(value).username !== "" && new URL(value).password !== ""),
    "must name this process's broker account and password, e.g. mqtts://mcs-worker:<password>@broker:8883 for the worker, mqtts://mcs-backend:<password>@… for the backend",
  ),
  /** PEM file the worker trusts for `mqtts://` (the broker's CA). */
  MQTT_CA: z.string().optional(),
  /** Names this worker's persistent MQTT session; two workers need two ids. */
  MQTT_CLIENT_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("mcs-worker-1"),
  /**
   * Empty (the default): one worker with a plain persistent subscription, which Mosquitto
   * 2.0.x restores after a broker restart. A group name (e.g. `workers`): several workers
   * split the load through `$share/{group}/…`, which Mosquitto 2.0.x does not restore.
   */
  MQTT_SHARE_GROUP: z.string().regex(/^[^/+#]*$/, "must not contain / + #").default(""),
  MCS_DEMO_DEVICES: z.coerce.number().int().min(0).max(10_000).optional(),
  /**
   * The demo scenario: scripted events on the demo fleet (a slow leak through level 1 and
   * level 2, a detector offline and back, a low battery), so the whole alarm path shows.
   * Default `on` exactly when the demo fleet runs; `off` keeps the demo detectors reporting
   * without scripted events. Never runs without the demo fleet.
   */
  MCS_DEMO_SCENARIO: z.enum(["on", "off"]).optional(),
  /** For tests and demos: seconds from the start to the scenario's first event (default 60). */
  MCS_DEMO_SCENARIO_START_S: z.coerce.number().min(0).max(86_400).default(60),
  /** For tests and demos: seconds from one scenario cycle's start to the next (default 300; at least the cycle's own length, 300). */
  MCS_DEMO_SCENARIO_PERIOD_S: z.coerce.number().min(1).max(86_400).default(300),
  /** Days readings stay in the database before the nightly archive takes them (the retention setting, once set, wins). */
  MCS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(3),
  /** A PEM file with the vendor's Ed25519 public key, instead of the one shipped with the product. */
  MCS_LICENSE_PUBKEY: z.string().optional(),
  /** The vendor's license check address (e.g. https://license.vendor.example/api/check); default: the license's own. */
  MCS_LICENSE_SERVER: optionalUrl(["http", "https"]),
  /** Services mode: the backend keeps this Mosquitto password file equal to the enabled devices… */
  MOSQUITTO_PASSWORD_FILE: z.string().optional(),
  /** …and sends this process SIGHUP to reload it (1 when sharing the broker container's PID namespace). */
  MOSQUITTO_PID: z.coerce.number().int().positive().optional(),
});

export type Config = ReturnType<typeof loadConfig>;

/** Reads and checks the environment once at start-up; a bad value stops the start with its name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if ((e.MOSQUITTO_PASSWORD_FILE === undefined) !== (e.MOSQUITTO_PID === undefined)) {
    throw new Error("invalid configuration: MOSQUITTO_PASSWORD_FILE and MOSQUITTO_PID go together (the file to write, the broker to reload)");
  }
  const embedded = !e.DATABASE_URL && !e.REDIS_URL && !e.MQTT_URL;
  return {
    httpPort: e.HTTP_PORT,
    httpHost: e.HTTP_HOST,
    mqttTlsPort: e.MQTT_TLS_PORT,
    httpsPort: e.HTTPS_PORT,
    publicUrl: e.MCS_PUBLIC_URL,
    dataDir: resolve(e.MCS_DATA_DIR),
    adminPassword: e.MCS_ADMIN_PASSWORD,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    mqttUrl: e.MQTT_URL,
    mqttCa: e.MQTT_CA,
    mqttClientId: e.MQTT_CLIENT_ID,
    mqttShareGroup: e.MQTT_SHARE_GROUP === "" ? null : e.MQTT_SHARE_GROUP,
    mosquitto: e.MOSQUITTO_PASSWORD_FILE && e.MOSQUITTO_PID ? { passwordFile: e.MOSQUITTO_PASSWORD_FILE, pid: e.MOSQUITTO_PID } : undefined,
    // The demo fleet only runs where nothing real is configured, unless asked for.
    demoDevices: e.MCS_DEMO_DEVICES ?? (embedded ? 20 : 0),
    /** How often the demo detectors report, ms (tests make it shorter). */
    demoIntervalMs: 10_000,
    demoScenario: {
      enabled: (e.MCS_DEMO_SCENARIO ?? "on") === "on" && (e.MCS_DEMO_DEVICES ?? (embedded ? 20 : 0)) > 0,
      firstEventAfterMs: e.MCS_DEMO_SCENARIO_START_S * 1000,
      periodMs: e.MCS_DEMO_SCENARIO_PERIOD_S * 1000,
      /** Tests only: the events' lengths divided by this (1 = real time). */
      speed: 1,
    },
    retentionDays: e.MCS_RETENTION_DAYS,
    licensePublicKeyFile: e.MCS_LICENSE_PUBKEY,
    licenseServer: e.MCS_LICENSE_SERVER,
  };
}
