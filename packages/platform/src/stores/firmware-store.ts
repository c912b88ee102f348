import { createHash, randomBytes } from "node:crypto";
import type { Firmware } from "@mcs/protocol";
import type { Db } from "../db/db.ts";
import type { Actor } from "./device-store.ts";
import { writeAudit } from "./audit-store.ts";

export class FirmwareConflictError extends Error {}
/** The image is named by a rollout: deleting it would break the rollout's history. */
export class FirmwareInUseError extends Error {}

const COLUMNS = `version, notes, size, sha256, created_by, created_at`;

function toFirmware(row: Record<string, unknown>): Firmware {
  return { ...(row as unknown as Firmware), created_at: new Date(row.created_at as string).toISOString() };
}

/**
 * Firmware images for OTA, each with its SHA-256 computed here on upload (what devices
 * check before they switch). One version, one image: a version is never overwritten, so a
 * device that reports it runs exactly these bytes.
 */
export class FirmwareStore {
  constructor(private readonly db: Db) {}

  async create(upload: { version: string; notes: string; image: Buffer }, actor: Actor, nowMs: number): Promise<Firmware> {
    const sha256 = createHash("sha256").update(upload.image).digest("hex");
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(
        `INSERT INTO firmware (version, notes, size, sha256, image, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz) ON CONFLICT (version) DO NOTHING RETURNING ${COLUMNS}`,
        [upload.version, upload.notes, upload.image.length, sha256, upload.image, actor.name, new Date(nowMs).toISOString()],
      );
      if (!rows[0]) throw new FirmwareConflictError(`firmware ${upload.version} already exists`);
      const firmware = toFirmware(rows[0]);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "firmware.upload", target: firmware.version, after: firmware });
      return firmware;
    });
  }

  /** Newest first. */
  async list(): Promise<Firmware[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM firmware ORDER BY created_at DESC, version`)).map(toFirmware);
  }

  async get(version: string): Promise<Firmware | null> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM firmware WHERE version = $1`, [version]);
    return row ? toFirmware(row) : null;
  }

  async image(version: string): Promise<Buffer | null> {
    const [row] = await this.db.query<{ image: Uint8Array }>(`SELECT image FROM firmware WHERE version = $1`, [version]);
    return row ? Buffer.from(row.image.buffer, row.image.byteOffset, row.image.byteLength) : null;
  }

  /** False when there was no such version. */
  async delete(version: string, actor: Actor): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [used] = await tx.query(`SELECT 1 FROM rollouts WHERE version = $1 LIMIT 1`, [version]);
      if (used) throw new FirmwareInUseError(`firmware ${version} has rollouts: it is kept as their record`);
      const [row] = await tx.query(`DELETE FROM firmware WHERE version = $1 RETURNING ${COLUMNS}`, [version]);
      if (!row) return false;
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "firmware.delete", target: version, before: toFirmware(row) });
      return true;
    });
  }

  /**
   * The key that signs download URLs: made at random the first time any process asks,
   * then the same for all (the database decides the race).
   */
  async signingKey(): Promise<Buffer> {
    await this.db.query(`INSERT INTO server_secrets (name, value) VALUES ('firmware_url_key', $1) ON CONFLICT (name) DO NOTHING`, [randomBytes(32).toString("base64")]);
    const [row] = await this.db.query<{ value: string }>(`SELECT value FROM server_secrets WHERE name = 'firmware_url_key'`);
    return Buffer.from(row!.value, "base64");
  }
}
