import { PRESET_FIELDS, safeAlarmFields, type AlarmSettings, type Calibration, type PresetField } from "@mcs/core";
import { alarmLimitProblem, type DeviceCreate, type DevicePatch } from "@mcs/protocol";
import { alarmSettingsOf } from "../alarms/alarm-settings.ts";
import type { Db, Queryable } from "../db/db.ts";
import { writeAudit } from "./audit-store.ts";

/** A device as stored (without its live state). */
export interface DeviceRecord extends Calibration {
  sn: string;
  name: string;
  gas: string;
  unit: string;
  high_limit: number | null;
  low_limit: number | null;
  high_limit_2: number | null;
  low_limit_2: number | null;
  deadband: number;
  on_delay_samples: number;
  off_delay_samples: number;
  latching: boolean;
  low_battery_v: number | null;
  stuck_samples: number | null;
  range_max: number | null;
  /** No alarm limits, by choice: shown as not configured with a fault, never as normal. */
  monitor_only: boolean;
  monitor_reason: string | null;
  enabled: boolean;
  calib_version: number;
  calib_due: string | null;
  report_interval_s: number;
  inhibit_until: string | null;
  inhibit_reason: string | null;
  inhibit_by: string | null;
  /** As the device last reported them (status message); null before. */
  fw: string | null;
  boot: number | null;
  created_at: string;
  updated_at: string;
}

/** What the worker needs of a device: to store its readings, and to tell when it fell silent. */
export interface DeviceCalibration extends Calibration {
  sn: string;
  gas: string;
  unit: string;
  monitor_only: boolean;
  monitor_reason: string | null;
  enabled: boolean;
  calib_version: number;
  report_interval_s: number;
  high_limit: number | null;
  low_limit: number | null;
  high_limit_2: number | null;
  low_limit_2: number | null;
  deadband: number;
  on_delay_samples: number;
  off_delay_samples: number;
  latching: boolean;
  low_battery_v: number | null;
  stuck_samples: number | null;
  range_max: number | null;
  /** Unix ms; null when not in maintenance. */
  inhibit_until_ms: number | null;
}

export interface CalibrationVersion {
  version: number;
  k: number;
  b: number;
  t_comp: number;
  t_ref: number;
  note: string;
  changed_by: string;
  changed_at: string;
}

export interface Actor {
  name: string;
  ip?: string | null;
}

/** What a device has when not given; its alarm limits, range and deadband come from its gas preset instead. */
const DEFAULTS = {
  gas: "CH4", unit: "%LEL", k: 1, b: 0, t_comp: 0, t_ref: 25, on_delay_samples: 1, off_delay_samples: 1, latching: false, low_battery_v: 3.5,
  stuck_samples: null, monitor_only: false, monitor_reason: null, enabled: true, report_interval_s: 10, calib_due: null,
} as const;
const ALARM_COLUMNS = `high_limit, low_limit, high_limit_2, low_limit_2, deadband, on_delay_samples, off_delay_samples, latching, low_battery_v, stuck_samples, range_max,
  monitor_only, monitor_reason`;
// boot is bigint in the table; as float8 it comes back a plain number from both drivers.
const COLUMNS = `sn, name, gas, unit, k, b, t_comp, t_ref, ${ALARM_COLUMNS}, enabled, calib_version, to_char(calib_due, 'YYYY-MM-DD') AS calib_due, report_interval_s,
  inhibit_until, inhibit_reason, inhibit_by, fw, boot::float8 AS boot, created_at, updated_at`;
const CALIBRATION_FIELDS = ["k", "b", "t_comp", "t_ref"] as const;
// The alarm limits, range and deadband are set apart: they go through the fail-safe defaults.
const PATCHABLE = [
  "name", "gas", "unit", "k", "b", "t_comp", "t_ref", "on_delay_samples", "off_delay_samples", "latching", "low_battery_v", "stuck_samples",
  "enabled", "report_interval_s", "calib_due",
] as const;

/** A device as created or changed, with which of its alarm fields came from the gas preset (they were not given). */
export type SavedDevice = DeviceRecord & { preset_applied: PresetField[]; preset_basis: string | null };

export class DeviceConflictError extends Error {}
/** The device's fields would not work together (e.g. a level 2 limit below level 1); nothing was changed. */
export class DeviceInvalidError extends Error {}

function toRecord(row: Record<string, unknown>): DeviceRecord {
  return {
    ...(row as unknown as DeviceRecord),
    created_at: new Date(row.created_at as string).toISOString(),
    updated_at: new Date(row.updated_at as string).toISOString(),
    inhibit_until: row.inhibit_until === null || row.inhibit_until === undefined ? null : new Date(row.inhibit_until as string).toISOString(),
  };
}

export class DeviceStore {
  constructor(private readonly db: Db) {}

  async list(): Promise<DeviceRecord[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM devices ORDER BY sn`)).map(toRecord);
  }

  /** How many devices are registered (the license's device limit counts them). */
  async count(): Promise<number> {
    const [row] = await this.db.query<{ count: number }>(`SELECT count(*)::int AS count FROM devices`);
    return row?.count ?? 0;
  }

  async get(sn: string, on: Queryable = this.db): Promise<DeviceRecord | null> {
    const [row] = await on.query(`SELECT ${COLUMNS} FROM devices WHERE sn = $1`, [sn]);
    return row ? toRecord(row) : null;
  }

  /**
   * Registers a device with its first calibration and alarm settings versions; `passwordHash`
   * is its MQTT secret's hash. Alarm fields not given come from its gas preset.
   */
  async create(input: DeviceCreate, passwordHash: string, actor: Actor): Promise<SavedDevice> {
    const asked = { ...DEFAULTS, name: input.sn, ...input };
    const alarm = guardedAlarmFields({ ...asked, monitor_reason: asked.monitor_only ? asked.monitor_reason : null });
    const d = { ...asked, ...alarm.fields, monitor_reason: asked.monitor_only ? (asked.monitor_reason?.trim() ?? null) : null };
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(
        `INSERT INTO devices (sn, name, gas, unit, k, b, t_comp, t_ref, ${ALARM_COLUMNS}, enabled, report_interval_s, mqtt_password_hash, calib_due)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25::date)
         ON CONFLICT (sn) DO NOTHING RETURNING ${COLUMNS}`,
        [
          d.sn, d.name, d.gas, d.unit, d.k, d.b, d.t_comp, d.t_ref, d.high_limit, d.low_limit, d.high_limit_2, d.low_limit_2, d.deadband,
          d.on_delay_samples, d.off_delay_samples, d.latching, d.low_battery_v, d.stuck_samples, d.range_max, d.monitor_only, d.monitor_reason,
          d.enabled, d.report_interval_s, passwordHash, d.calib_due,
        ],
      );
      if (!rows[0]) throw new DeviceConflictError(`device ${d.sn} already exists`);
      const device = toRecord(rows[0]);
      await insertCalibrationVersion(tx, device, "initial calibration", actor.name);
      await insertSettingsVersion(tx, device);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "device.create", target: d.sn, after: { ...device, preset_applied: alarm.applied, preset_basis: alarm.basis } });
      return { ...device, preset_applied: alarm.applied, preset_basis: alarm.basis };
    });
  }

  /**
   * Changes fields; a calibration change makes a new calibration version, an alarm settings
   * change a new settings version. An alarm field left empty comes from the gas preset; a new
   * gas or unit takes the new preset for every alarm field not given with it. Null when there
   * is no such device.
   */
  async update(sn: string, patch: DevicePatch, actor: Actor): Promise<SavedDevice | null> {
    return this.db.transaction(async (tx) => {
      const [locked] = await tx.query(`SELECT ${COLUMNS} FROM devices WHERE sn = $1 FOR UPDATE`, [sn]);
      if (!locked) return null;
      const before = toRecord(locked);
      const alarm = guardedAlarmFields(alarmRequest(before, patch));
      const monitorOnly = patch.monitor_only ?? before.monitor_only;
      const monitorReason = monitorOnly ? (patch.monitor_reason ?? before.monitor_reason)?.trim() ?? null : null;
      const values: Record<string, unknown> = { ...alarm.fields, monitor_only: monitorOnly, monitor_reason: monitorReason };
      for (const field of PATCHABLE) if (patch[field] !== undefined) values[field] = patch[field];
      const fields = Object.keys(values);
      const calibrationChanged = CALIBRATION_FIELDS.some((field) => patch[field] !== undefined && patch[field] !== before[field]);
      const sets = fields.map((field, i) => `${field} = $${i + 2}`);
      if (calibrationChanged) sets.push(`calib_version = calib_version + 1`);
      sets.push(`updated_at = now()`);
      const [row] = await tx.query(`UPDATE devices SET ${sets.join(", ")} WHERE sn = $1 RETURNING ${COLUMNS}`, [sn, ...fields.map((f) => values[f])]);
      const after = toRecord(row!);
      if (calibrationChanged) await insertCalibrationVersion(tx, after, patch.calib_note ?? "", actor.name);
      if (JSON.stringify(alarmSettingsOf(after)) !== JSON.stringify(alarmSettingsOf(before))) await insertSettingsVersion(tx, after);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "device.update", target: sn, before, after: { ...after, preset_applied: alarm.applied, preset_basis: alarm.basis } });
      return { ...after, preset_applied: alarm.applied, preset_basis: alarm.basis };
    });
  }

  async delete(sn: string, actor: Actor): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(`DELETE FROM devices WHERE sn = $1 RETURNING ${COLUMNS}`, [sn]);
      if (!row) return false;
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "device.delete", target: sn, before: toRecord(row) });
      return true;
    });
  }

  /** Every calibration version of a device, newest first (who, when, the note). */
  async calibrationHistory(sn: string): Promise<CalibrationVersion[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT version, k, b, t_comp, t_ref, note, changed_by, changed_at FROM calibration_versions WHERE sn = $1 ORDER BY version DESC`,
      [sn],
    );
    return rows.map((row) => ({ ...(row as unknown as CalibrationVersion), changed_at: new Date(row.changed_at as string).toISOString() }));
  }

  /** Maintenance until `untilMs`: no new alarms; recorded with who and why. False when there is no such device. */
  async inhibit(sn: string, untilMs: number, reason: string, actor: Actor): Promise<DeviceRecord | null> {
    return this.db.transaction(async (tx) => {
      const [locked] = await tx.query(`SELECT ${COLUMNS} FROM devices WHERE sn = $1 FOR UPDATE`, [sn]);
      if (!locked) return null;
      const [row] = await tx.query(
        `UPDATE devices SET inhibit_until = $2::timestamptz, inhibit_reason = $3, inhibit_by = $4, updated_at = now() WHERE sn = $1 RETURNING ${COLUMNS}`,
        [sn, new Date(untilMs).toISOString(), reason, actor.name],
      );
      const before = toRecord(locked);
      const after = toRecord(row!);
      // One period per device at a time: a new inhibit replaces the current one from now on.
      await tx.query(`UPDATE device_maintenance SET until = now() WHERE sn = $1 AND until > now()`, [sn]);
      await tx.query(`INSERT INTO device_maintenance (sn, started_at, until, reason, by) VALUES ($1, now(), $2::timestamptz, $3, $4)`, [sn, new Date(untilMs).toISOString(), reason, actor.name]);
      await writeAudit(tx, {
        actor: actor.name, ip: actor.ip, action: "device.inhibit", target: sn,
        before: { inhibit_until: before.inhibit_until, inhibit_reason: before.inhibit_reason }, after: { inhibit_until: after.inhibit_until, inhibit_reason: reason },
      });
      return after;
    });
  }

  /** Ends maintenance now. Null when there is no such device. */
  async endInhibit(sn: string, actor: Actor): Promise<DeviceRecord | null> {
    return this.db.transaction(async (tx) => {
      const [locked] = await tx.query(`SELECT ${COLUMNS} FROM devices WHERE sn = $1 FOR UPDATE`, [sn]);
      if (!locked) return null;
      const [row] = await tx.query(`UPDATE devices SET inhibit_until = NULL, inhibit_reason = NULL, inhibit_by = NULL, updated_at = now() WHERE sn = $1 RETURNING ${COLUMNS}`, [sn]);
      await tx.query(`UPDATE device_maintenance SET until = now() WHERE sn = $1 AND until > now()`, [sn]);
      const before = toRecord(locked);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "device.inhibit.end", target: sn, before: { inhibit_until: before.inhibit_until, inhibit_reason: before.inhibit_reason }, after: { inhibit_until: null } });
      return toRecord(row!);
    });
  }

  async setPasswordHash(sn: string, passwordHash: string, actor: Actor): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(`UPDATE devices SET mqtt_password_hash = $2, updated_at = now() WHERE sn = $1 RETURNING sn`, [sn, passwordHash]);
      if (!rows[0]) return false;
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "device.credentials.rotate", target: sn });
      return true;
    });
  }

  /**
   * The firmware version and boot counter a device reported in its status message. Not a
   * configuration change: no audit row, `updated_at` stays. Written only when different.
   */
  async reportFirmware(sn: string, fw: string | undefined, boot: number | undefined): Promise<void> {
    await this.db.query(
      `UPDATE devices SET fw = COALESCE($2, fw), boot = COALESCE($3::bigint, boot)
       WHERE sn = $1 AND (fw IS DISTINCT FROM COALESCE($2, fw) OR boot IS DISTINCT FROM COALESCE($3::bigint, boot))`,
      [sn, fw ?? null, boot ?? null],
    );
  }

  /** The stored hash of the device's MQTT password, for the embedded broker's login check. */
  async passwordHash(sn: string): Promise<string | null> {
    const [row] = await this.db.query<{ h: string }>(`SELECT mqtt_password_hash AS h FROM devices WHERE sn = $1 AND enabled`, [sn]);
    return row?.h ?? null;
  }

  /** Usernames and hashes of every enabled device, to write a broker's password file. */
  async credentials(): Promise<{ username: string; hash: string }[]> {
    return this.db.query(`SELECT sn AS username, mqtt_password_hash AS hash FROM devices WHERE enabled ORDER BY sn`);
  }

  /** Calibrations for the worker: all devices, or those named. */
  async calibrations(sns?: readonly string[]): Promise<DeviceCalibration[]> {
    const select = `SELECT sn, gas, unit, enabled, calib_version, k, b, t_comp, t_ref, report_interval_s, ${ALARM_COLUMNS},
      (extract(epoch FROM inhibit_until) * 1000)::float8 AS inhibit_until_ms FROM devices`;
    return sns ? this.db.query<DeviceCalibration>(`${select} WHERE sn = ANY($1::text[])`, [sns]) : this.db.query<DeviceCalibration>(select);
  }

  /**
   * What judging a device's past needs: its alarm settings over time (oldest first, the first
   * valid since the epoch) and its maintenance periods.
   */
  async alarmHistory(sn: string, on: Queryable = this.db): Promise<DeviceAlarmHistory> {
    const [versions, maintenance] = await Promise.all([
      on.query<{ valid_from: string; settings: AlarmSettings | string }>(`SELECT valid_from, settings FROM alarm_settings_versions WHERE sn = $1 ORDER BY valid_from`, [sn]),
      on.query<{ started_at: string; until: string }>(`SELECT started_at, until FROM device_maintenance WHERE sn = $1 ORDER BY started_at`, [sn]),
    ]);
    return {
      settings: versions.map((row) => ({ validFrom: new Date(row.valid_from).getTime(), settings: typeof row.settings === "string" ? JSON.parse(row.settings) : row.settings })),
      maintenance: maintenance.map((row) => ({ from: new Date(row.started_at).getTime(), until: new Date(row.until).getTime() })),
    };
  }
}

/** A device's alarm settings and maintenance over time (Unix ms). */
export interface DeviceAlarmHistory {
  settings: { validFrom: number; settings: AlarmSettings }[];
  maintenance: { from: number; until: number }[];
}

/** The alarm fields to ask the fail-safe defaults for: on a new gas or unit only those given with it, else the device's own. */
function alarmRequest(before: DeviceRecord, patch: DevicePatch) {
  const gas = patch.gas ?? before.gas;
  const unit = patch.unit ?? before.unit;
  const monitorOnly = patch.monitor_only ?? before.monitor_only;
  // A new gas or unit makes the old setpoints meaningless; so does turning monitor-only on.
  const fresh = gas !== before.gas || unit !== before.unit || (monitorOnly && !before.monitor_only);
  const field = (name: PresetField) => (patch[name] !== undefined ? patch[name] : fresh ? undefined : before[name]);
  return {
    gas, unit, monitor_only: monitorOnly, monitor_reason: patch.monitor_reason ?? before.monitor_reason,
    ...Object.fromEntries(PRESET_FIELDS.map((name) => [name, field(name)])),
  };
}

/** Fail-safe alarm fields, or DeviceInvalidError naming what is missing or contradictory. */
function guardedAlarmFields(request: Parameters<typeof safeAlarmFields>[0]) {
  const safe = safeAlarmFields(request);
  if (!safe.ok) throw new DeviceInvalidError(safe.message);
  const problem = alarmLimitProblem(safe.fields);
  if (problem) {
    const fromPreset = safe.applied.filter((field) => problem.includes(field));
    throw new DeviceInvalidError(fromPreset.length > 0 ? `${problem} (${fromPreset.join(", ")} came from the ${request.gas} preset: give ${fromPreset.length > 1 ? "them" : "it"})` : problem);
  }
  return safe;
}

async function insertSettingsVersion(tx: Queryable, device: DeviceRecord): Promise<void> {
  await tx.query(
    `INSERT INTO alarm_settings_versions (sn, valid_from, settings) VALUES ($1, clock_timestamp(), $2::text::jsonb) ON CONFLICT (sn, valid_from) DO UPDATE SET settings = excluded.settings`,
    [device.sn, JSON.stringify(alarmSettingsOf(device))],
  );
}

async function insertCalibrationVersion(tx: Queryable, device: DeviceRecord, note: string, by: string): Promise<void> {
  await tx.query(
    `INSERT INTO calibration_versions (sn, version, k, b, t_comp, t_ref, note, changed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [device.sn, device.calib_version, device.k, device.b, device.t_comp, device.t_ref, note, by],
  );
}
