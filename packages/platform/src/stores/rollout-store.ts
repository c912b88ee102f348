import { randomUUID } from "node:crypto";
import { ROLLOUT_DEVICE_STATUSES, type Firmware, type OtaParams, type Rollout, type RolloutDeviceStatus, type RolloutRequest } from "@mcs/protocol";
import type { Db, Queryable } from "../db/db.ts";
import type { Actor } from "./device-store.ts";
import { writeAudit } from "./audit-store.ts";
import { insertCommand } from "./command-store.ts";
import { ACK_TIMEOUT_S } from "../commands/command-delivery.ts";
import { iso, isoOrNull } from "./times.ts";

/** A device that acked its update must report the new version within this, else it rolled back. */
export const VERSION_REPORT_GRACE_MS = 5 * 60_000;

export class RolloutConflictError extends Error {}
export class RolloutDevicesError extends Error {}

/** Builds the `ota` params for one device (its own signed URL, valid until `untilMs`). */
export type OtaParamsFor = (firmware: Firmware, sn: string, untilMs: number) => OtaParams;

export interface AdvanceOptions {
  nowMs: number;
  otaParams: OtaParamsFor;
  /** Online devices are started first: an offline one would hold a slot until it returns. */
  isOnline(sn: string): boolean;
}

const ROLLOUT_COLUMNS = `id::text AS id, version, state, max_concurrent, max_failures, expires_in_s, created_by, created_at, finished_at`;

type RolloutRow = Omit<Rollout, "progress" | "devices">;

/**
 * Rollouts of a firmware version to a selection of devices: each device queued →
 * updating (its `ota` command is out) → succeeded (acked, and it reports the new version)
 * or failed (refused, timed out, or still on its old version after the ack: a rollback);
 * skipped when it needs nothing or the rollout was cancelled. At most `max_concurrent`
 * devices update at once; `max_failures` failures halt the rest.
 *
 * `advance` does one step under the rollout's row lock, so several backends may drive the
 * same rollout: each step sees the last one's result.
 */
export class RolloutStore {
  constructor(private readonly db: Db) {}

  async create(firmware: Firmware, request: RolloutRequest, actor: Actor, nowMs: number): Promise<Rollout> {
    const id = randomUUID();
    await this.db.transaction(async (tx) => {
      const known = await tx.query<{ sn: string; fw: string | null }>(`SELECT sn, fw FROM devices WHERE sn = ANY($1::text[])`, [request.sns]);
      const fwOf = new Map(known.map((row) => [row.sn, row.fw]));
      const unknown = request.sns.filter((sn) => !fwOf.has(sn));
      if (unknown.length > 0) throw new RolloutDevicesError(`no such devices: ${unknown.slice(0, 20).join(", ")}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ""}`);
      const busy = await tx.query<{ sn: string }>(
        `SELECT d.sn FROM rollout_devices d
         WHERE d.sn = ANY($1::text[]) AND d.status IN ('queued', 'updating')`,
        [request.sns],
      );
      if (busy.length > 0) throw new RolloutConflictError(`already in another rollout: ${busy.map((row) => row.sn).slice(0, 20).join(", ")}`);
      await tx.query(
        `INSERT INTO rollouts (id, version, state, max_concurrent, max_failures, expires_in_s, created_by, created_at)
         VALUES ($1::uuid, $2, 'running', $3, $4, $5, $6, $7::timestamptz)`,
        [id, firmware.version, request.max_concurrent, request.max_failures ?? null, request.expires_in_s, actor.name, iso(nowMs)],
      );
      for (const [position, sn] of request.sns.entries()) {
        const current = fwOf.get(sn) === firmware.version;
        await tx.query(
          `INSERT INTO rollout_devices (rollout_id, position, sn, status, msg, finished_at) VALUES ($1::uuid, $2, $3, $4, $5, $6::timestamptz)`,
          [id, position, sn, current ? "skipped" : "queued", current ? `already runs ${firmware.version}` : null, current ? iso(nowMs) : null],
        );
      }
      await writeAudit(tx, {
        actor: actor.name, ip: actor.ip, action: "rollout.create", target: firmware.version,
        after: { id, devices: request.sns.length, max_concurrent: request.max_concurrent, max_failures: request.max_failures ?? null },
      });
    });
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Rollout | null> {
    const [row] = await this.db.query<RolloutRow>(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE id = $1::uuid`, [id]);
    if (!row) return null;
    const devices = (
      await this.db.query<Record<string, unknown>>(
        `SELECT sn, status, command_id::text AS command_id, msg, started_at, finished_at FROM rollout_devices WHERE rollout_id = $1::uuid ORDER BY position`,
        [id],
      )
    ).map((device) => ({
      sn: device.sn as string,
      status: device.status as RolloutDeviceStatus,
      command_id: (device.command_id as string | null) ?? null,
      msg: (device.msg as string | null) ?? null,
      started_at: isoOrNull(device.started_at),
      finished_at: isoOrNull(device.finished_at),
    }));
    const progress = Object.fromEntries(ROLLOUT_DEVICE_STATUSES.map((status) => [status, devices.filter((device) => device.status === status).length])) as Rollout["progress"];
    return { ...toRollout(row), progress, devices };
  }

  /** Newest first, with progress and without the device lists. */
  async list(limit: number): Promise<Omit<Rollout, "devices">[]> {
    const rows = await this.db.query<RolloutRow>(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts ORDER BY created_at DESC LIMIT $1`, [limit]);
    if (rows.length === 0) return [];
    const counts = await this.db.query<{ rollout_id: string; status: RolloutDeviceStatus; n: number }>(
      `SELECT rollout_id::text AS rollout_id, status, count(*)::int AS n FROM rollout_devices WHERE rollout_id = ANY($1::uuid[]) GROUP BY rollout_id, status`,
      [rows.map((row) => row.id)],
    );
    return rows.map((row) => {
      const progress = Object.fromEntries(ROLLOUT_DEVICE_STATUSES.map((status) => [status, 0])) as Rollout["progress"];
      for (const count of counts) if (count.rollout_id === row.id) progress[count.status] = count.n;
      return { ...toRollout(row), progress };
    });
  }

  /** Rollouts with work left: running ones, and stopped ones whose devices are still updating. */
  async active(): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id::text AS id FROM rollouts r
       WHERE state = 'running' OR EXISTS (SELECT 1 FROM rollout_devices d WHERE d.rollout_id = r.id AND d.status = 'updating')`,
    );
    return rows.map((row) => row.id);
  }

  /** Stops starting devices; those updating finish. False when it had already stopped. */
  async cancel(id: string, actor: Actor, nowMs: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(`UPDATE rollouts SET state = 'cancelled', finished_at = $2::timestamptz WHERE id = $1::uuid AND state = 'running' RETURNING id`, [id, iso(nowMs)]);
      if (!row) return false;
      await tx.query(`UPDATE rollout_devices SET status = 'skipped', msg = 'rollout cancelled', finished_at = $2::timestamptz WHERE rollout_id = $1::uuid AND status = 'queued'`, [id, iso(nowMs)]);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "rollout.cancel", target: id, before: { state: "running" }, after: { state: "cancelled" } });
      return true;
    });
  }

  /**
   * One step: settles the devices whose update ended, halts on too many failures, starts
   * queued devices up to the limit, and finishes the rollout when nothing is left. Answers
   * the devices whose `ota` command it just created (to be delivered).
   */
  async advance(id: string, options: AdvanceOptions): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const [rollout] = await tx.query<RolloutRow>(`SELECT ${ROLLOUT_COLUMNS} FROM rollouts WHERE id = $1::uuid FOR UPDATE`, [id]);
      if (!rollout) return [];
      await settle(tx, id, rollout.version, options.nowMs);
      if (rollout.state !== "running") return [];

      const [counts] = await tx.query<{ failed: number; updating: number; queued: number }>(
        `SELECT count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*) FILTER (WHERE status = 'updating')::int AS updating,
                count(*) FILTER (WHERE status = 'queued')::int AS queued
         FROM rollout_devices WHERE rollout_id = $1::uuid`,
        [id],
      );
      if (rollout.max_failures !== null && counts!.failed >= rollout.max_failures) {
        await finish(tx, id, "halted", options.nowMs, `${counts!.failed} devices failed (limit ${rollout.max_failures})`);
        return [];
      }
      if (counts!.queued === 0 && counts!.updating === 0) {
        await finish(tx, id, "done", options.nowMs);
        return [];
      }
      const free = rollout.max_concurrent - counts!.updating;
      if (free <= 0 || counts!.queued === 0) return [];

      const [firmware] = await tx.query<Firmware>(`SELECT version, notes, size, sha256, created_by, created_at FROM firmware WHERE version = $1`, [rollout.version]);
      const queued = await tx.query<{ sn: string; enabled: boolean | null }>(
        `SELECT d.sn, dev.enabled FROM rollout_devices d LEFT JOIN devices dev ON dev.sn = d.sn
         WHERE d.rollout_id = $1::uuid AND d.status = 'queued' ORDER BY d.position`,
        [id],
      );
      const next = [...queued.filter((row) => options.isOnline(row.sn)), ...queued.filter((row) => !options.isOnline(row.sn))].slice(0, free);
      const started: string[] = [];
      const actor = { name: `rollout ${id}` };
      for (const { sn, enabled } of next) {
        if (enabled !== true) {
          await setDevice(tx, id, sn, "skipped", enabled === null ? "device deleted" : "device disabled", options.nowMs);
          continue;
        }
        const expiresAt = options.nowMs + rollout.expires_in_s * 1000;
        const command = await insertCommand(
          tx,
          // The URL outlives the wait for the device and the download it then makes.
          { id: randomUUID(), sn, cmd: "ota", params: options.otaParams(firmware!, sn, expiresAt + ACK_TIMEOUT_S.ota * 1000), expiresAt },
          actor,
          options.nowMs,
        );
        await tx.query(
          `UPDATE rollout_devices SET status = 'updating', command_id = $3::uuid, started_at = $4::timestamptz WHERE rollout_id = $1::uuid AND sn = $2`,
          [id, sn, command.id, iso(options.nowMs)],
        );
        started.push(sn);
      }
      return started;
    });
  }
}

function toRollout(row: RolloutRow): RolloutRow {
  return { ...row, created_at: new Date(row.created_at).toISOString(), finished_at: isoOrNull(row.finished_at) };
}

/** Updating devices whose command ended: acked and on the new version, or not. */
async function settle(tx: Queryable, id: string, version: string, nowMs: number): Promise<void> {
  const updating = await tx.query<{ sn: string; status: string | null; msg: string | null; acked_at: string | null; fw: string | null }>(
    `SELECT d.sn, c.status, c.msg, c.acked_at, dev.fw
     FROM rollout_devices d LEFT JOIN commands c ON c.id = d.command_id LEFT JOIN devices dev ON dev.sn = d.sn
     WHERE d.rollout_id = $1::uuid AND d.status = 'updating'`,
    [id],
  );
  for (const device of updating) {
    if (device.status === null) await setDevice(tx, id, device.sn, "failed", "device deleted", nowMs);
    else if (device.status === "failed") await setDevice(tx, id, device.sn, "failed", device.msg || "the device refused the update", nowMs);
    else if (device.status === "timeout") await setDevice(tx, id, device.sn, "failed", "no answer from the device in time", nowMs);
    else if (device.status === "acked") {
      if (device.fw === version) await setDevice(tx, id, device.sn, "succeeded", device.msg || `runs ${version}`, nowMs);
      else if (nowMs - new Date(device.acked_at!).getTime() > VERSION_REPORT_GRACE_MS) {
        await setDevice(tx, id, device.sn, "failed", `acked, but still reports ${device.fw ?? "no version"}: the new image did not stay (rolled back?)`, nowMs);
      }
    }
  }
}

async function setDevice(tx: Queryable, id: string, sn: string, status: RolloutDeviceStatus, msg: string, nowMs: number): Promise<void> {
  await tx.query(`UPDATE rollout_devices SET status = $3, msg = $4, finished_at = $5::timestamptz WHERE rollout_id = $1::uuid AND sn = $2`, [id, sn, status, msg, iso(nowMs)]);
}

async function finish(tx: Queryable, id: string, state: "done" | "halted", nowMs: number, reason?: string): Promise<void> {
  await tx.query(`UPDATE rollouts SET state = $2, finished_at = $3::timestamptz WHERE id = $1::uuid`, [id, state, iso(nowMs)]);
  // A halted rollout lets its untouched devices go: a new rollout may take them.
  await tx.query(`UPDATE rollout_devices SET status = 'skipped', msg = 'rollout halted', finished_at = $2::timestamptz WHERE rollout_id = $1::uuid AND status = 'queued'`, [id, iso(nowMs)]);
  await writeAudit(tx, { actor: "system", action: `rollout.${state}`, target: id, before: { state: "running" }, after: { state, reason: reason ?? null } });
}
