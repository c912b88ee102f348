import type { Floorplan, FloorplanDevice, FloorplanMime } from "@mcs/protocol";
import type { Db, Queryable } from "../db/db.ts";
import type { Actor } from "./device-store.ts";
import { writeAudit } from "./audit-store.ts";

/** A drawing as checked by the caller: the mime recognised from its bytes, an SVG already sanitised. */
export interface FloorplanImage {
  mime: FloorplanMime;
  image: Buffer;
  width: number | null;
  height: number | null;
}

/** Some placements name devices that do not exist. */
export class FloorplanUnknownDevicesError extends Error {
  constructor(readonly sns: string[]) {
    super(`no device ${sns.join(", ")}`);
  }
}

const COLUMNS = `id, name, position, mime, width, height, created_by, created_at, updated_at`;
type PlanRow = Omit<Floorplan, "devices">;
type Placement = { sn: string; x: number; y: number };

function toPlan(row: Record<string, unknown>, devices: Placement[]): Floorplan {
  return {
    ...(row as unknown as PlanRow),
    created_at: new Date(row.created_at as string).toISOString(),
    updated_at: new Date(row.updated_at as string).toISOString(),
    devices,
  };
}

async function placementsOf(db: Queryable, id: number): Promise<Placement[]> {
  return (await db.query<Placement>(`SELECT sn, x, y FROM floorplan_devices WHERE floorplan_id = $1 ORDER BY sn`, [id])).map(({ sn, x, y }) => ({ sn, x: Number(x), y: Number(y) }));
}

/** What the audit log keeps of a plan: never its bytes. */
function described(plan: Floorplan, size: number | null): Record<string, unknown> {
  const { devices, created_at: _created, updated_at: _updated, ...rest } = plan;
  return { ...rest, ...(size !== null && { size }), devices };
}

/**
 * Plant drawings (PNG, JPEG or sanitised SVG, stored in the database) and where devices sit
 * on them, in per cent of the drawing. A device is on one plan at a time. Every change
 * writes its audit row in the same transaction, without the image's bytes.
 */
export class FloorplanStore {
  constructor(private readonly db: Db) {}

  /** By position, then id, each with its devices. */
  async list(): Promise<Floorplan[]> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM floorplans ORDER BY position, id`);
    const placements = await this.db.query<Placement & { floorplan_id: number }>(`SELECT floorplan_id, sn, x, y FROM floorplan_devices ORDER BY sn`);
    const byPlan = new Map<number, Placement[]>();
    for (const { floorplan_id, sn, x, y } of placements) {
      const list = byPlan.get(floorplan_id) ?? [];
      list.push({ sn, x: Number(x), y: Number(y) });
      byPlan.set(floorplan_id, list);
    }
    return rows.map((row) => toPlan(row, byPlan.get(row.id as number) ?? []));
  }

  async get(id: number): Promise<Floorplan | null> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM floorplans WHERE id = $1`, [id]);
    return row ? toPlan(row, await placementsOf(this.db, id)) : null;
  }

  async image(id: number): Promise<{ mime: FloorplanMime; image: Buffer } | null> {
    const [row] = await this.db.query<{ mime: FloorplanMime; image: Uint8Array }>(`SELECT mime, image FROM floorplans WHERE id = $1`, [id]);
    return row ? { mime: row.mime, image: Buffer.from(row.image.buffer, row.image.byteOffset, row.image.byteLength) } : null;
  }

  /** Added after the last plan. */
  async create(name: string, drawing: FloorplanImage, actor: Actor, nowMs: number): Promise<Floorplan> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(
        `INSERT INTO floorplans (name, position, mime, image, width, height, created_by, created_at, updated_at)
         VALUES ($1, (SELECT COALESCE(MAX(position) + 1, 0) FROM floorplans), $2, $3, $4, $5, $6, $7::timestamptz, $7::timestamptz)
         RETURNING ${COLUMNS}`,
        [name, drawing.mime, drawing.image, drawing.width, drawing.height, actor.name, new Date(nowMs).toISOString()],
      );
      const plan = toPlan(row!, []);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "floorplan.create", target: `floorplan ${plan.id} (${plan.name})`, after: described(plan, drawing.image.length) });
      return plan;
    });
  }

  /** Null when there is no such plan. */
  async update(id: number, patch: { name?: string; position?: number }, actor: Actor, nowMs: number): Promise<Floorplan | null> {
    return this.db.transaction(async (tx) => {
      const [locked] = await tx.query(`SELECT ${COLUMNS} FROM floorplans WHERE id = $1 FOR UPDATE`, [id]);
      if (!locked) return null;
      const [row] = await tx.query(
        `UPDATE floorplans SET name = COALESCE($2, name), position = COALESCE($3, position), updated_at = $4::timestamptz WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, patch.name ?? null, patch.position ?? null, new Date(nowMs).toISOString()],
      );
      const devices = await placementsOf(tx, id);
      const before = toPlan(locked, devices);
      const after = toPlan(row!, devices);
      await writeAudit(tx, {
        actor: actor.name, ip: actor.ip, action: "floorplan.update", target: `floorplan ${id} (${after.name})`,
        before: { name: before.name, position: before.position }, after: { name: after.name, position: after.position },
      });
      return after;
    });
  }

  /** False when there was no such plan; its placements go with it. */
  async delete(id: number, actor: Actor): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const devices = await placementsOf(tx, id);
      const [row] = await tx.query(`DELETE FROM floorplans WHERE id = $1 RETURNING ${COLUMNS}, octet_length(image) AS size`, [id]);
      if (!row) return false;
      const { size, ...rest } = row;
      const plan = toPlan(rest, devices);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "floorplan.delete", target: `floorplan ${id} (${plan.name})`, before: described(plan, Number(size)) });
      return true;
    });
  }

  /**
   * Replaces the plan's placements with these; a device placed on another plan moves here.
   * Null when there is no such plan; FloorplanUnknownDevicesError when a device does not exist.
   */
  async setDevices(id: number, devices: FloorplanDevice[], actor: Actor, nowMs: number): Promise<Floorplan | null> {
    return this.db.transaction(async (tx) => {
      const [locked] = await tx.query(`SELECT ${COLUMNS} FROM floorplans WHERE id = $1 FOR UPDATE`, [id]);
      if (!locked) return null;
      const sns = devices.map((device) => device.sn).sort();
      // Locking the devices (in one order) serialises plans that move the same device at once.
      const known = new Set((await tx.query<{ sn: string }>(`SELECT sn FROM devices WHERE sn = ANY($1::text[]) ORDER BY sn FOR NO KEY UPDATE`, [sns])).map((row) => row.sn));
      const unknown = devices.map((device) => device.sn).filter((sn) => !known.has(sn));
      if (unknown.length > 0) throw new FloorplanUnknownDevicesError(unknown);
      const before = await placementsOf(tx, id);
      const moved = await tx.query<{ sn: string; floorplan_id: number }>(
        `DELETE FROM floorplan_devices WHERE floorplan_id <> $1 AND sn = ANY($2::text[]) RETURNING sn, floorplan_id`,
        [id, sns],
      );
      await tx.query(`DELETE FROM floorplan_devices WHERE floorplan_id = $1`, [id]);
      if (devices.length > 0) {
        await tx.query(
          `INSERT INTO floorplan_devices (floorplan_id, sn, x, y)
           SELECT $1, sn, x, y FROM unnest($2::text[], $3::float8[], $4::float8[]) AS t (sn, x, y)`,
          [id, devices.map((d) => d.sn), devices.map((d) => d.x), devices.map((d) => d.y)],
        );
      }
      const [row] = await tx.query(`UPDATE floorplans SET updated_at = $2::timestamptz WHERE id = $1 RETURNING ${COLUMNS}`, [id, new Date(nowMs).toISOString()]);
      const after = await placementsOf(tx, id);
      const plan = toPlan(row!, after);
      await writeAudit(tx, {
        actor: actor.name, ip: actor.ip, action: "floorplan.devices", target: `floorplan ${id} (${plan.name})`,
        before: { devices: before },
        after: { devices: after, ...(moved.length > 0 && { moved_from: moved.map(({ sn, floorplan_id }) => ({ sn, floorplan_id })).sort((a, b) => a.sn.localeCompare(b.sn)) }) },
      });
      return plan;
    });
  }
}
