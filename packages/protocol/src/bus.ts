import type { DeviceStatus } from "./websocket.ts";

/** The latest state of one device, as the worker keeps it in the cache and on the bus. */
export interface LatestReading {
  sn: string;
  ts: number;
  /** The newest trustworthy value: a reading whose value its error bits make meaningless (a sensor fault) does not replace it. */
  ppm: number;
  status: DeviceStatus;
  flags: number;
  bat?: number | undefined;
  rssi?: number | undefined;
  /** Set when `ppm` is older than the reading at `ts` (whose value meant nothing): Unix seconds of the reading `ppm` comes from. */
  ppm_ts?: number | undefined;
}

/** Why a device's presence changed: its online status, its will, a reading, or its silence. */
export const PRESENCE_REASONS = ["status", "will", "reading", "silence"] as const;
export type PresenceReason = (typeof PRESENCE_REASONS)[number];

/** A device went online or offline; `at` (ISO-8601) is when the server decided it. */
export interface DeviceStatusEvent {
  sn: string;
  online: boolean;
  at: string;
  reason: PresenceReason;
}

/** Internal bus channels (worker ⇄ backend), one typed map. */
export interface BusChannels {
  /** The newest reading of each device in a committed batch. */
  "readings": LatestReading[];
  /** A device was created, changed (calibration, limits, enabled) or deleted. */
  "device.changed": { sn: string; action: "created" | "updated" | "deleted" };
  /** A device's presence changed, announced once per change (for the alarm center and the dashboard). */
  "device.status": DeviceStatusEvent;
  /** Something happened to an alarm (raised, level up, cleared, acknowledged, closed): for the dashboard. */
  "alarm": AlarmBusEvent;
  /** A device's open alarms were changed outside the worker (an ack, a reset): workers reload them. */
  "alarm.changed": { sn: string };
  /** A notification channel was created, changed or deleted: workers reload the channels. */
  "channels.changed": { id: number };
  /** A kiosk token was revoked: every backend closes that wall screen's connections. */
  "kiosk.revoked": { id: number };
  /** The license record changed (a file installed, a check done): every guard reloads it. */
  "license.changed": { state: string };
}

export interface AlarmBusEvent {
  id: number;
  sn: string;
  type: "HIGH" | "LOW" | "FAULT" | "OFFLINE" | "LOW_BATTERY";
  level: 1 | 2;
  /** What happened: raised, level_up, condition_cleared, condition_returned, acked, closed; late_episode, revised, withdrawn (late readings). */
  kind: string;
  state: "unacked" | "acked" | "cleared_unacked" | "closed";
  /** The value at the event (null for OFFLINE). */
  ppm: number | null;
  /** ISO-8601: when it happened (for a late event, in the past). */
  at: string;
  /** Found by readings that arrived out of time order (补报). */
  late?: boolean;
}
export type BusChannel = keyof BusChannels;

export const cacheKeys = {
  /** Hash: sn → JSON LatestReading. */
  latest: "mcs:latest",
  /** Hash: sn → JSON calibration parameters. */
  calibration: "mcs:calib",
  /** Hash: sn → JSON presence state `{online, at, reason}` (at in Unix ms). */
  presence: "mcs:presence",
  /** Hash: sn → Unix ms the server last received a reading or an online status from the device. */
  seen: "mcs:seen",
  session: (tokenHash: string) => `mcs:session:${tokenHash}`,
  /** A periodic job's lock, so one worker at a time runs it. */
  lock: (job: string) => `mcs:lock:${job}`,
} as const;
