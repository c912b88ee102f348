import { canonicalTimeZone, DEFAULT_PLANT_SETTINGS, DEFAULT_RETENTION, SECRET_MASK, type PlantSettings, type RetentionSettings } from "@mcs/protocol";
import type { Db } from "../db/db.ts";
import type { S3StorageConfig } from "../storage/s3-object-store.ts";
import type { Actor } from "./device-store.ts";
import { writeAudit } from "./audit-store.ts";

/** The object storage as stored, secret included: never send this to a browser as it is. */
export interface StorageSettingsRecord {
  endpoint: string;
  region: string;
  bucket: string;
  access_key_id: string;
  secret_access_key: string;
  force_path_style: boolean;
  prefix: string;
}

export type RetentionSettingsRecord = RetentionSettings;

/** The plant's time zone as read: `unknown_stored_zone` names a stored zone this engine does not know (then `time_zone` is the default). */
export type PlantSettingsRecord = PlantSettings & { unknown_stored_zone: string | null };

export const SETTINGS_KEYS = { storage: "storage", retention: "retention", plant: "plant" } as const;

/** The storage settings with the secret shown as "********" (answers, audit rows). */
export function maskStorageSettings(record: StorageSettingsRecord): Omit<StorageSettingsRecord, "secret_access_key"> & { secret_access_key: typeof SECRET_MASK | null } {
  return { ...record, secret_access_key: record.secret_access_key ? SECRET_MASK : null };
}

/** What the S3 client needs from the stored settings. */
export function s3ConfigOf(record: StorageSettingsRecord): S3StorageConfig {
  return {
    endpoint: record.endpoint,
    region: record.region,
    bucket: record.bucket,
    accessKeyId: record.access_key_id,
    secretAccessKey: record.secret_access_key,
    forcePathStyle: record.force_path_style,
    prefix: record.prefix,
  };
}

function parseJson(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

/**
 * System settings, one JSON document per key (`storage`, `retention`, `plant`). Each change writes
 * its audit row (`settings.<key>`, before → after) in the same transaction, the storage
 * secret masked.
 */
export class SettingsStore {
  constructor(private readonly db: Db) {}

  async get<T>(key: string): Promise<T | null> {
    const [row] = await this.db.query<{ value: unknown }>(`SELECT value FROM settings WHERE key = $1`, [key]);
    return row ? (parseJson(row.value) as T) : null;
  }

  /** The object storage, or null while none is configured. */
  async storage(): Promise<StorageSettingsRecord | null> {
    return this.get<StorageSettingsRecord>(SETTINGS_KEYS.storage);
  }

  /** How long readings stay hot and records are kept; the defaults (`defaults` over `DEFAULT_RETENTION`) until someone sets it. */
  async retention(defaults: Partial<RetentionSettingsRecord> = {}): Promise<RetentionSettingsRecord> {
    return { ...DEFAULT_RETENTION, ...defaults, ...(await this.get<Partial<RetentionSettingsRecord>>(SETTINGS_KEYS.retention)) };
  }

  /**
   * The plant's time zone (default Asia/Shanghai). A stored zone this engine does not know
   * (a hand-edited row, older time-zone data) reads as the default, named in
   * `unknown_stored_zone`; never throws for it, since notifications and exports depend on it.
   */
  async plant(): Promise<PlantSettingsRecord> {
    const stored = await this.get<Partial<PlantSettings>>(SETTINGS_KEYS.plant);
    if (stored?.time_zone === undefined || stored.time_zone === null) return { ...DEFAULT_PLANT_SETTINGS, unknown_stored_zone: null };
    const zone = canonicalTimeZone(stored.time_zone);
    return zone ? { time_zone: zone, unknown_stored_zone: null } : { ...DEFAULT_PLANT_SETTINGS, unknown_stored_zone: String(stored.time_zone) };
  }

  /**
   * Just the zone, for formatting: Asia/Shanghai when none is stored, when the stored one is
   * unknown (`onProblem` gets its name) or when the database cannot be read (`onProblem` gets
   * the error). Never throws: the alarm, notification and export paths call it.
   */
  async plantTimeZone(onProblem?: (zoneOrError: unknown) => void): Promise<string> {
    try {
      const plant = await this.plant();
      if (plant.unknown_stored_zone !== null) onProblem?.(plant.unknown_stored_zone);
      return plant.time_zone;
    } catch (error) {
      onProblem?.(error);
      return DEFAULT_PLANT_SETTINGS.time_zone;
    }
  }

  /** Sets the plant's time zone, stored under its canonical name ("asia/shanghai" → "Asia/Shanghai"). */
  async setPlant(value: PlantSettings, actor: Actor, nowMs: number): Promise<PlantSettings> {
    const zone = canonicalTimeZone(value.time_zone);
    if (zone === null) throw new RangeError(`${JSON.stringify(value.time_zone)} is not a known IANA time zone`);
    return this.put<PlantSettings>(SETTINGS_KEYS.plant, { time_zone: zone }, actor, nowMs, (before, after) => ({ before, after }));
  }

  async setStorage(value: StorageSettingsRecord, actor: Actor, nowMs: number): Promise<StorageSettingsRecord> {
    return this.put(SETTINGS_KEYS.storage, value, actor, nowMs, (before, after) => ({
      before: before ? maskStorageSettings(before) : null,
      // The secret's value never reaches the log; whether it changed does.
      after: { ...maskStorageSettings(after), secret_access_key_changed: before?.secret_access_key !== after.secret_access_key },
    }));
  }

  async setRetention(value: RetentionSettingsRecord, actor: Actor, nowMs: number): Promise<RetentionSettingsRecord> {
    return this.put(SETTINGS_KEYS.retention, value, actor, nowMs, (before, after) => ({ before: before ? { ...DEFAULT_RETENTION, ...before } : null, after }));
  }

  private async put<T>(key: string, value: T, actor: Actor, nowMs: number, audited: (before: T | null, after: T) => { before: unknown; after: unknown }): Promise<T> {
    return this.db.transaction(async (tx) => {
      const [locked] = await tx.query<{ value: unknown }>(`SELECT value FROM settings WHERE key = $1 FOR UPDATE`, [key]);
      const before = locked ? (parseJson(locked.value) as T) : null;
      await tx.query(
        `INSERT INTO settings (key, value, updated_by, updated_at) VALUES ($1, $2::text::jsonb, $3, $4::timestamptz)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
        [key, JSON.stringify(value), actor.name, new Date(nowMs).toISOString()],
      );
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: `settings.${key}`, target: `settings ${key}`, ...audited(before, value) });
      return value;
    });
  }
}
