import { safeAlarmFields } from "@mcs/core";
import { alarmSettingsOf, type DeviceAlarmColumns } from "../alarms/alarm-settings.ts";
import { createLogger } from "../log.ts";
import type { Queryable } from "./db.ts";
import { runScript } from "./script.ts";

export interface Migration {
  version: number;
  name: string;
  /** Plain SQL, or a function when the statement depends on the server (TimescaleDB or not). */
  up: string | ((db: Queryable) => Promise<void>);
}

/**
 * The schema, in order. A migration, once released, is never edited: a change is a new
 * migration. The same SQL runs on PostgreSQL and PGlite.
 */
export const migrations: Migration[] = [
  {
    version: 1,
    name: "devices and calibration versions",
    up: `
      CREATE TABLE devices (
        sn                 text PRIMARY KEY,
        name               text NOT NULL,
        gas                text NOT NULL,
        unit               text NOT NULL,
        k                  double precision NOT NULL,
        b                  double precision NOT NULL,
        t_comp             double precision NOT NULL,
        t_ref              double precision NOT NULL,
        high_limit         double precision,
        low_limit          double precision,
        enabled            boolean NOT NULL DEFAULT true,
        calib_version      integer NOT NULL DEFAULT 1,
        mqtt_password_hash text NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now()
      );
      -- Every calibration a device ever had, so history can be recalculated from v_raw.
      CREATE TABLE calibration_versions (
        sn          text NOT NULL REFERENCES devices (sn) ON DELETE CASCADE,
        version     integer NOT NULL,
        k           double precision NOT NULL,
        b           double precision NOT NULL,
        t_comp      double precision NOT NULL,
        t_ref       double precision NOT NULL,
        note        text NOT NULL DEFAULT '',
        changed_by  text NOT NULL,
        changed_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (sn, version)
      );`,
  },
  {
    version: 2,
    name: "telemetry",
    up: async (db) => {
      // The key (sn, ts, seq) makes a resent reading a no-op. No foreign key to devices:
      // readings outlive a deleted device's row and the hot path checks devices itself.
      await db.query(`
        CREATE TABLE telemetry (
          sn            text NOT NULL,
          ts            timestamptz NOT NULL,
          seq           integer NOT NULL,
          ppm           double precision NOT NULL,
          v_raw         double precision NOT NULL,
          temp          real,
          humi          real,
          bat           real,
          rssi          smallint,
          err           integer NOT NULL DEFAULT 0,
          flags         smallint NOT NULL DEFAULT 0,
          calib_version integer NOT NULL,
          PRIMARY KEY (sn, ts, seq)
        ) ${(await hasTimescale(db)) ? "" : "PARTITION BY RANGE (ts)"}`);
      if (await hasTimescale(db)) {
        // TimescaleDB (the production image): a hypertable in daily chunks, compressed after 3 days.
        await db.query(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
        await db.query(`SELECT create_hypertable('telemetry', 'ts', chunk_time_interval => interval '1 day')`);
        await db.query(`ALTER TABLE telemetry SET (timescaledb.compress, timescaledb.compress_segmentby = 'sn', timescaledb.compress_orderby = 'ts')`);
        await db.query(`SELECT add_compression_policy('telemetry', interval '3 days')`);
      }
      // Otherwise native daily range partitions, made ahead of time by ensureTelemetryPartitions().
    },
  },
  {
    version: 3,
    name: "dead letters, users, audit",
    up: `
      -- A message that could not be stored, with the reason, never silently dropped.
      CREATE TABLE dead_letters (
        id          bigserial PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now(),
        topic       text NOT NULL,
        sn          text,
        reason      text NOT NULL,
        payload     text NOT NULL
      );
      CREATE INDEX dead_letters_received_at ON dead_letters (received_at);
      CREATE TABLE users (
        id            serial PRIMARY KEY,
        username      text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        role          text NOT NULL CHECK (role IN ('admin', 'engineer', 'operator', 'viewer')),
        created_at    timestamptz NOT NULL DEFAULT now()
      );
      -- Who changed what, when, from where: before and after, never a secret.
      CREATE TABLE audit_log (
        id      bigserial PRIMARY KEY,
        at      timestamptz NOT NULL DEFAULT now(),
        actor   text NOT NULL,
        ip      text,
        action  text NOT NULL,
        target  text NOT NULL,
        before  jsonb,
        after   jsonb
      );
      CREATE INDEX audit_log_at ON audit_log (at);`,
  },
  {
    version: 4,
    name: "device report interval and firmware",
    up: `
      -- The device's report interval: silent for 3 of them, it is offline.
      ALTER TABLE devices ADD COLUMN report_interval_s integer NOT NULL DEFAULT 10 CHECK (report_interval_s BETWEEN 1 AND 3600);
      -- As the device last reported them in its status message (bigint: the wire allows any counter).
      ALTER TABLE devices ADD COLUMN fw text;
      ALTER TABLE devices ADD COLUMN boot bigint;`,
  },
  {
    version: 5,
    name: "downlink commands",
    up: `
      -- pending → sent → acked | failed | timeout; every time from the application's clock.
      CREATE TABLE commands (
        id          uuid PRIMARY KEY,
        seq         bigserial NOT NULL,
        sn          text NOT NULL REFERENCES devices (sn) ON DELETE CASCADE,
        cmd         text NOT NULL,
        params      jsonb NOT NULL,
        status      text NOT NULL CHECK (status IN ('pending', 'sent', 'acked', 'failed', 'timeout')),
        msg         text,
        created_by  text NOT NULL,
        created_at  timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL,
        -- A deliverer's claim while it publishes, so two processes never send one command twice.
        lease_until timestamptz,
        sent_at     timestamptz,
        ack_due_at  timestamptz,
        acked_at    timestamptz,
        finished_at timestamptz
      );
      CREATE INDEX commands_sn_seq ON commands (sn, seq);
      CREATE INDEX commands_open ON commands (status) WHERE status IN ('pending', 'sent');`,
  },
  {
    version: 6,
    name: "firmware images and rollouts",
    up: `
      -- Images are a few MB: kept in the database, so every backend serves them and a backup holds them.
      CREATE TABLE firmware (
        version    text PRIMARY KEY,
        notes      text NOT NULL,
        size       integer NOT NULL,
        sha256     text NOT NULL,
        image      bytea NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL
      );
      -- Secrets the server makes for itself once (the key of signed download URLs), shared by every process.
      CREATE TABLE server_secrets (
        name  text PRIMARY KEY,
        value text NOT NULL
      );
      CREATE TABLE rollouts (
        id             uuid PRIMARY KEY,
        version        text NOT NULL REFERENCES firmware (version),
        state          text NOT NULL CHECK (state IN ('running', 'halted', 'cancelled', 'done')),
        max_concurrent integer NOT NULL,
        max_failures   integer,
        expires_in_s   integer NOT NULL,
        created_by     text NOT NULL,
        created_at     timestamptz NOT NULL,
        finished_at    timestamptz
      );
      CREATE TABLE rollout_devices (
        rollout_id  uuid NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
        position    integer NOT NULL,
        sn          text NOT NULL,
        status      text NOT NULL CHECK (status IN ('queued', 'updating', 'succeeded', 'failed', 'skipped')),
        command_id  uuid,
        msg         text,
        started_at  timestamptz,
        finished_at timestamptz,
        PRIMARY KEY (rollout_id, sn)
      );`,
  },
  {
    version: 7,
    name: "alarm center",
    up: `
      -- Level 1 stays high_limit/low_limit (the plan's names); level 2, hysteresis and delays per device.
      ALTER TABLE devices ADD COLUMN high_limit_2 double precision;
      ALTER TABLE devices ADD COLUMN low_limit_2 double precision;
      ALTER TABLE devices ADD COLUMN deadband double precision NOT NULL DEFAULT 0 CHECK (deadband >= 0);
      ALTER TABLE devices ADD COLUMN on_delay_samples integer NOT NULL DEFAULT 1 CHECK (on_delay_samples BETWEEN 1 AND 60);
      ALTER TABLE devices ADD COLUMN off_delay_samples integer NOT NULL DEFAULT 1 CHECK (off_delay_samples BETWEEN 1 AND 60);
      ALTER TABLE devices ADD COLUMN latching boolean NOT NULL DEFAULT false;
      ALTER TABLE devices ADD COLUMN low_battery_v double precision DEFAULT 3.5;
      ALTER TABLE devices ADD COLUMN stuck_samples integer CHECK (stuck_samples BETWEEN 2 AND 10000);
      ALTER TABLE devices ADD COLUMN range_max double precision;
      -- Maintenance: no new alarms until then; who and why are shown wherever the device is.
      ALTER TABLE devices ADD COLUMN inhibit_until timestamptz;
      ALTER TABLE devices ADD COLUMN inhibit_reason text;
      ALTER TABLE devices ADD COLUMN inhibit_by text;

      -- No foreign key to devices: alarm records outlive a deleted detector (kept 3 years).
      CREATE TABLE alarms (
        id               bigserial PRIMARY KEY,
        sn               text NOT NULL,
        type             text NOT NULL CHECK (type IN ('HIGH', 'LOW', 'FAULT', 'OFFLINE', 'LOW_BATTERY')),
        level            smallint NOT NULL CHECK (level IN (1, 2)),
        state            text NOT NULL CHECK (state IN ('unacked', 'acked', 'cleared_unacked', 'closed')),
        condition_active boolean NOT NULL,
        value            double precision,
        peak             double precision,
        reason           text NOT NULL,
        raised_at        timestamptz NOT NULL,
        acked_at         timestamptz,
        acked_by         text,
        ack_comment      text,
        cleared_at       timestamptz,
        closed_at        timestamptz
      );
      -- The state machine's invariant, kept by the database too: one open alarm per device and type.
      CREATE UNIQUE INDEX alarms_one_open ON alarms (sn, type) WHERE state <> 'closed';
      CREATE INDEX alarms_raised ON alarms (raised_at DESC);
      CREATE INDEX alarms_sn_raised ON alarms (sn, raised_at DESC);

      CREATE TABLE alarm_events (
        id       bigserial PRIMARY KEY,
        alarm_id bigint NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
        kind     text NOT NULL,
        level    smallint NOT NULL,
        value    double precision,
        at       timestamptz NOT NULL,
        actor    text NOT NULL,
        note     text NOT NULL
      );
      CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, id);

      CREATE TABLE channels (
        id                 serial PRIMARY KEY,
        type               text NOT NULL CHECK (type IN ('email', 'dingtalk', 'feishu', 'wecom', 'webhook', 'sms')),
        name               text NOT NULL,
        enabled            boolean NOT NULL,
        config             jsonb NOT NULL,
        locale             text NOT NULL DEFAULT 'zh-CN',
        -- Who and when: null = every device / type / hour (a new channel hears everything).
        sns                text[],
        types              text[],
        min_level          smallint NOT NULL DEFAULT 1,
        schedule           jsonb,
        level2_always      boolean NOT NULL DEFAULT true,
        repeat_every_min   integer NOT NULL DEFAULT 0,
        escalate_after_min integer NOT NULL DEFAULT 0,
        min_interval_s     integer NOT NULL DEFAULT 0,
        created_at         timestamptz NOT NULL,
        updated_at         timestamptz NOT NULL
      );

      -- Written in the alarm event's transaction; a dispatcher sends, retries and groups.
      CREATE TABLE outbox (
        id              bigserial PRIMARY KEY,
        -- A deleted channel's history stays with the alarm (records are kept 3 years).
        channel_id      integer REFERENCES channels (id) ON DELETE SET NULL,
        alarm_id        bigint NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
        kind            text NOT NULL CHECK (kind IN ('raised', 'level_up', 'repeat', 'escalation')),
        status          text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        created_at      timestamptz NOT NULL,
        finished_at     timestamptz,
        detail          text
      );
      CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX outbox_alarm ON outbox (alarm_id, channel_id);`,
  },
  {
    version: 8,
    name: "admin site: accounts, calibration due, floor plans, settings",
    up: `
      -- Lock-out after repeated failures (per account, whatever the address), and disabled accounts.
      ALTER TABLE users ADD COLUMN failed_logins integer NOT NULL DEFAULT 0;
      ALTER TABLE users ADD COLUMN locked_until timestamptz;
      ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false;
      ALTER TABLE users ADD COLUMN password_changed_at timestamptz;
      -- Fixed detectors: accuracy check every 4–6 months, calibration at least yearly.
      ALTER TABLE devices ADD COLUMN calib_due date;

      CREATE TABLE floorplans (
        id          serial PRIMARY KEY,
        name        text NOT NULL,
        position    integer NOT NULL DEFAULT 0,
        -- image/png, image/jpeg or image/svg+xml (sanitised before it is stored)
        mime        text NOT NULL,
        image       bytea NOT NULL,
        width       integer,
        height      integer,
        created_by  text NOT NULL,
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL
      );
      -- Positions in per cent of the drawing, so they hold at any screen size.
      CREATE TABLE floorplan_devices (
        floorplan_id integer NOT NULL REFERENCES floorplans (id) ON DELETE CASCADE,
        sn           text NOT NULL REFERENCES devices (sn) ON DELETE CASCADE,
        x            double precision NOT NULL CHECK (x >= 0 AND x <= 100),
        y            double precision NOT NULL CHECK (y >= 0 AND y <= 100),
        PRIMARY KEY (floorplan_id, sn)
      );
      -- A device is on one plan at a time.
      CREATE UNIQUE INDEX floorplan_devices_sn ON floorplan_devices (sn);

      -- System settings (object storage, retention…) as JSON per key; secrets inside are write-only in the API.
      CREATE TABLE settings (
        key        text PRIMARY KEY,
        value      jsonb NOT NULL,
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL
      );`,
  },
  {
    version: 9,
    name: "kiosk tokens for wall screens",
    up: `
      -- A wall screen's login (role viewer): only its hash is kept; revoking ends it at once.
      CREATE TABLE kiosk_tokens (
        id           serial PRIMARY KEY,
        name         text NOT NULL,
        token_hash   text NOT NULL UNIQUE,
        created_by   text NOT NULL,
        created_at   timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at   timestamptz
      );`,
  },
  {
    version: 10,
    name: "fail-safe defaults, late readings judged, episodes and peaks",
    up: async (db) => {
      await runScript(db, `
        -- Monitor only: no alarm limits, by an explicit choice with a reason (shown as not configured).
        ALTER TABLE devices ADD COLUMN monitor_only boolean NOT NULL DEFAULT false;
        ALTER TABLE devices ADD COLUMN monitor_reason text;

        -- late: raised from readings that arrived out of time order; received_at: when the server knew.
        ALTER TABLE alarms ADD COLUMN late boolean NOT NULL DEFAULT false;
        ALTER TABLE alarms ADD COLUMN received_at timestamptz;
        UPDATE alarms SET received_at = raised_at;
        ALTER TABLE alarms ALTER COLUMN received_at SET DEFAULT now();
        ALTER TABLE alarms ALTER COLUMN received_at SET NOT NULL;
        ALTER TABLE alarms ADD COLUMN peak_at timestamptz;
        UPDATE alarms SET peak_at = raised_at;

        -- Each stretch of time an alarm's condition held, as the readings in time order say.
        -- Derived data: late readings may revise it (the event log says so).
        CREATE TABLE alarm_episodes (
          id          bigserial PRIMARY KEY,
          alarm_id    bigint NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
          sn          text NOT NULL,
          type        text NOT NULL,
          level       smallint NOT NULL,
          started_at  timestamptz NOT NULL,
          start_seq   integer NOT NULL,
          start_value double precision,
          ended_at    timestamptz,
          end_seq     integer,
          peak        double precision,
          peak_at     timestamptz NOT NULL,
          reason      text NOT NULL,
          late        boolean NOT NULL DEFAULT false,
          recorded_at timestamptz NOT NULL
        );
        CREATE UNIQUE INDEX alarm_episodes_start ON alarm_episodes (sn, type, started_at, start_seq);
        CREATE INDEX alarm_episodes_alarm ON alarm_episodes (alarm_id);
        -- The open ones (ended_at null) and the recent ones are what a replay compares.
        CREATE INDEX alarm_episodes_end ON alarm_episodes (sn, ended_at);

        -- Where late readings are judged from: a device's condition track after one reading.
        CREATE TABLE alarm_checkpoints (
          sn    text NOT NULL,
          ts    timestamptz NOT NULL,
          seq   integer NOT NULL,
          track jsonb NOT NULL,
          PRIMARY KEY (sn, ts, seq)
        );

        -- A device's alarm settings over time: a late reading is judged by those of its own time.
        CREATE TABLE alarm_settings_versions (
          sn         text NOT NULL,
          valid_from timestamptz NOT NULL,
          settings   jsonb NOT NULL,
          PRIMARY KEY (sn, valid_from)
        );

        -- Maintenance periods, kept: a late reading taken during one raises nothing.
        CREATE TABLE device_maintenance (
          id         bigserial PRIMARY KEY,
          sn         text NOT NULL,
          started_at timestamptz NOT NULL,
          until      timestamptz NOT NULL,
          reason     text NOT NULL,
          by         text NOT NULL
        );
        CREATE INDEX device_maintenance_sn ON device_maintenance (sn, until);
        INSERT INTO device_maintenance (sn, started_at, until, reason, by)
          SELECT sn, now(), inhibit_until, coalesce(inhibit_reason, ''), coalesce(inhibit_by, '') FROM devices WHERE inhibit_until > now();

        -- A late notice names the episode it is about.
        ALTER TABLE outbox ADD COLUMN episode_id bigint REFERENCES alarm_episodes (id) ON DELETE SET NULL;
        ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
        ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('raised', 'level_up', 'repeat', 'escalation', 'late'));

        -- Open alarms whose condition holds go on as open episodes.
        INSERT INTO alarm_episodes (alarm_id, sn, type, level, started_at, start_seq, start_value, peak, peak_at, reason, recorded_at)
          SELECT id, sn, type, level, raised_at, 0, value, peak, raised_at, reason, now()
          FROM alarms WHERE state <> 'closed' AND condition_active AND type <> 'OFFLINE'`);
      await guardUnguardedDevices(db);
      for (const device of await db.query<DeviceAlarmColumns & { sn: string }>(`SELECT * FROM devices`)) {
        await db.query(`INSERT INTO alarm_settings_versions (sn, valid_from, settings) VALUES ($1, timestamptz 'epoch', $2::text::jsonb)`, [
          device.sn, JSON.stringify(alarmSettingsOf(device)),
        ]);
      }
    },
  },
  {
    version: 11,
    name: "readings with a wrong clock kept, refusals per device",
    up: `
      -- A reading whose own time is implausible is stored at its receive time; its own time is kept here.
      ALTER TABLE telemetry ADD COLUMN device_ts bigint;
      -- A device's last refusal (its page shows why its messages are not stored).
      CREATE INDEX dead_letters_sn ON dead_letters (sn, id)`,
  },
  {
    version: 12,
    name: "the license guard's record",
    up: `
      -- One row: the installed license file and what the guards learnt (docs/license.md).
      CREATE TABLE license_guard (
        id               integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        first_start_at   timestamptz NOT NULL DEFAULT now(),
        file             text,
        activated_at     timestamptz,
        last_check_at    timestamptz,
        last_check_ok_at timestamptz,
        last_check_error text,
        revoked          boolean NOT NULL DEFAULT false,
        -- The largest clock any guard saw: a clock set back never buys time.
        max_seen_at      timestamptz NOT NULL DEFAULT now()
      )`,
  },
  {
    version: 13,
    name: "the archive: runs and archived days",
    up: `
      -- Each archive run (02:00, or asked for), what it did and how it ended (docs/archive.md).
      CREATE TABLE archive_runs (
        id            bigserial PRIMARY KEY,
        trigger       text NOT NULL CHECK (trigger IN ('schedule', 'api', 'cli')),
        requested_by  text NOT NULL,
        before        date,
        -- The plant day a scheduled run is for: two workers' schedules make one run.
        scheduled_for date UNIQUE,
        state         text NOT NULL CHECK (state IN ('queued', 'running', 'ok', 'failed')),
        queued_at     timestamptz NOT NULL,
        started_at    timestamptz,
        heartbeat_at  timestamptz,
        finished_at   timestamptz,
        days          text[] NOT NULL DEFAULT '{}',
        days_total    integer NOT NULL DEFAULT 0,
        rows          bigint NOT NULL DEFAULT 0,
        bytes         bigint NOT NULL DEFAULT 0,
        raw_bytes     bigint NOT NULL DEFAULT 0,
        error         text
      );
      -- One run at a time, whichever worker runs it.
      CREATE UNIQUE INDEX archive_runs_one_running ON archive_runs (state) WHERE state = 'running';
      CREATE INDEX archive_runs_queued ON archive_runs (id) WHERE state = 'queued';

      -- Each day whose verified objects are in the store; a restored day stays local a while.
      CREATE TABLE archive_days (
        day          date PRIMARY KEY,
        key          text NOT NULL,
        rows         bigint NOT NULL,
        bytes        bigint NOT NULL,
        sha256       text NOT NULL,
        archived_at  timestamptz NOT NULL,
        run_id       bigint REFERENCES archive_runs (id) ON DELETE SET NULL,
        restored_at  timestamptz,
        restored_by  text
      )`,
  },
];

/**
 * A detector without any alarm limit would show 150 %LEL green. Each one gets its gas's
 * preset (audited as applied by this migration), or, without a preset for its gas and unit,
 * becomes "monitor only" with that reason: shown as not configured, never as normal.
 */
async function guardUnguardedDevices(db: Queryable): Promise<void> {
  const log = createLogger("db.migrate");
  const unguarded = await db.query<DeviceAlarmColumns & { sn: string }>(
    `SELECT * FROM devices WHERE high_limit IS NULL AND high_limit_2 IS NULL AND low_limit IS NULL AND low_limit_2 IS NULL ORDER BY sn`,
  );
  for (const device of unguarded) {
    const safe = safeAlarmFields({ gas: device.gas, unit: device.unit, range_max: device.range_max, deadband: device.deadband || null });
    const before = { high_limit: null, high_limit_2: null, low_limit: null, low_limit_2: null, range_max: device.range_max, deadband: device.deadband };
    let after: Record<string, unknown>;
    if (safe.ok) {
      after = { ...safe.fields, preset_applied: safe.applied, preset_basis: safe.basis };
      await db.query(
        `UPDATE devices SET high_limit = $2, high_limit_2 = $3, low_limit = $4, low_limit_2 = $5, range_max = $6, deadband = $7, updated_at = now() WHERE sn = $1`,
        [device.sn, safe.fields.high_limit, safe.fields.high_limit_2, safe.fields.low_limit, safe.fields.low_limit_2, safe.fields.range_max, safe.fields.deadband],
      );
    } else {
      const reason = `migration 10: no alarm limits, and no preset for ${device.gas} in ${device.unit}`;
      after = { monitor_only: true, monitor_reason: reason };
      await db.query(`UPDATE devices SET monitor_only = true, monitor_reason = $2, updated_at = now() WHERE sn = $1`, [device.sn, reason]);
    }
    await db.query(`INSERT INTO audit_log (actor, action, target, before, after) VALUES ('migration 10', 'device.update', $1, $2::text::jsonb, $3::text::jsonb)`, [
      device.sn, JSON.stringify(before), JSON.stringify(after),
    ]);
    log.warn({ sn: device.sn, gas: device.gas, unit: device.unit, ...after }, safe.ok ? "device had no alarm limits: its gas preset applied" : "device had no alarm limits and no preset: now monitor only");
  }
}

async function hasTimescale(db: Queryable): Promise<boolean> {
  const rows = await db.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`);
  return rows.length > 0;
}
