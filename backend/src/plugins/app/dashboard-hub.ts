import websocket from "@fastify/websocket";
import fp from "fastify-plugin";
import type { FastifyBaseLogger } from "fastify";
import { WebSocket } from "ws";
import { ALARM_TYPES, DEVICE_STATUSES, type AlarmBusEvent, type AlarmFrame, type DeviceStatus, type RealtimeFrame, type RealtimeItem } from "@mcs/protocol";
import type { Clock, Db, DeviceRecord, DeviceStore } from "@mcs/platform";
import { gasAlarmLevel } from "@mcs/core";
import type { LiveState } from "./live-state.ts";

declare module "fastify" {
  interface FastifyInstance {
    dashboardHub: DashboardHub;
  }
}

/** Close codes of `/ws/dashboard` (4xxx: the application's own). */
export const WS_CLOSE = {
  /** The server is shutting down: reconnect (with backoff). */
  goingAway: 1001,
  /** The server could not build the snapshot: reconnect (with backoff). */
  internalError: 1011,
  /** The client reads too slowly: reconnect and resynchronise from a fresh snapshot. */
  tryAgainLater: 1013,
  /** The credential was revoked (kiosk token) or the session ended: do not retry with it. */
  revoked: 4001,
  /** No valid credential at connect: do not retry with it. */
  unauthorized: 4401,
} as const;

/** Bus channel (not in `BusChannels` yet): a kiosk token was revoked; every backend closes its screens. */
export const KIOSK_REVOKED_CHANNEL = "kiosk.revoked";

export interface DashboardHubOptions {
  /** At most one `realtime` frame per client per this many ms (1000). */
  flushIntervalMs?: number;
  /** Above this many bytes waiting in a socket, its realtime flush is skipped (256 KiB); its pending map keeps the newest per device. */
  skipBufferedBytes?: number;
  /** Above this many bytes waiting in a socket, it is closed with 1013 (4 MiB). */
  closeBufferedBytes?: number;
  /** Ping (and recheck credentials, and refresh the state from the stores) this often (30 s); a client without a pong by the next one is dropped. */
  pingIntervalMs?: number;
}

/** One connection: its socket and the newest item per device not sent yet. */
export interface DashboardClient {
  readonly socket: WebSocket;
  /** For `kiosk.revoked`: the kiosk token it came with, else null. */
  readonly kioskId: number | null;
  /** Whether its credential still holds (checked at every ping). */
  readonly verify: () => Promise<boolean>;
  readonly pending: Map<string, RealtimeItem>;
  timer: NodeJS.Timeout | null;
  lastFlush: number;
  alive: boolean;
}

interface OpenAlarmState {
  type: AlarmBusEvent["type"];
  level: number;
  active: boolean;
}

/** What the hub holds of one device. */
interface DeviceState {
  sn: string;
  online: boolean;
  /** The worker's status with its latest reading (`online`, `alarm`, `fault`), nudged by alarm events meanwhile. */
  readingStatus: DeviceStatus | undefined;
  ppm: number;
  ts: number | undefined;
  inhibitUntil: number | null;
  alarms: Map<number, OpenAlarmState>;
}

interface Loaded {
  records: DeviceRecord[];
  live: Awaited<ReturnType<LiveState["all"]>>;
  alarms: { id: number; sn: string; type: AlarmBusEvent["type"]; level: number; condition_active: boolean }[];
}

const GAS_TYPES = new Set<string>(["HIGH", "LOW"]);
/** What the worker shows as `fault` (low power is a fault: DOMAIN.md). */
const FAULT_TYPES = new Set<string>(["FAULT", "LOW_BATTERY"]);
const ACTIVE_KINDS = new Set(["raised", "level_up", "condition_returned"]);
const ALARM_STATES = new Set(["unacked", "acked", "cleared_unacked", "closed"]);

/**
 * The big screen's live feed, one per backend process. It keeps the current state of every
 * device (loaded from the stores: devices, the cache's latest reading and presence, the
 * open alarms; then kept by the bus: `readings`, `device.status`, `alarm`, `device.changed`),
 * so each backend serves its own clients from what every worker publishes. A client holds
 * only its pending map (sn → newest item): flushed as one `realtime` frame at most once per
 * `flushIntervalMs`, skipped while the socket's buffer is above `skipBufferedBytes` (so
 * memory is bounded by the device count), the socket closed above `closeBufferedBytes`.
 * Alarm events go out at once as `alarm` frames.
 */
export class DashboardHub {
  private readonly devices = new Map<string, DeviceState>();
  private readonly items = new Map<string, RealtimeItem>();
  private readonly clients = new Set<DashboardClient>();
  private loading: Promise<void> | null = null;
  /** Bus events heard while a load is running, applied after it in order. */
  private queued: (() => void)[] | null = null;
  private loaded = false;
  private closing = false;
  /** Kiosk tokens revoked while this process ran (ids are never reused): a screen let in just before is not kept. */
  private readonly revokedKiosks = new Set<number>();
  private readonly ping: NodeJS.Timeout;
  private readonly flushMs: number;
  private readonly skipBytes: number;
  private readonly closeBytes: number;

  constructor(
    private readonly deps: { db: Db; devices: DeviceStore; liveState: LiveState; clock: Clock; log: FastifyBaseLogger },
    options: DashboardHubOptions = {},
  ) {
    this.flushMs = options.flushIntervalMs ?? 1000;
    this.skipBytes = options.skipBufferedBytes ?? 256 * 1024;
    this.closeBytes = options.closeBufferedBytes ?? 4 * 1024 * 1024;
    this.ping = setInterval(() => this.sweep(), options.pingIntervalMs ?? 30_000);
    this.ping.unref();
  }

  /** How many clients, devices, and pending items (all clients together, and the largest one's). */
  stats(): { clients: number; devices: number; pending: number; maxPending: number } {
    let pending = 0;
    let maxPending = 0;
    for (const client of this.clients) {
      pending += client.pending.size;
      maxPending = Math.max(maxPending, client.pending.size);
    }
    return { clients: this.clients.size, devices: this.devices.size, pending, maxPending };
  }

  /**
   * Takes an authenticated socket: loads the current state, sends the snapshot (every
   * device), then keeps the client for deltas until it closes.
   */
  async add(socket: WebSocket, who: { kioskId: number | null; verify: () => Promise<boolean> }): Promise<void> {
    if (this.closing) {
      socket.close(WS_CLOSE.goingAway, "server shutting down");
      return;
    }
    const client: DashboardClient = { socket, kioskId: who.kioskId, verify: who.verify, pending: new Map(), timer: null, lastFlush: 0, alive: true };
    socket.on("close", () => this.remove(client));
    socket.on("pong", () => (client.alive = true));
    // A browser cannot see protocol pings: it sends `{"type":"ping"}` and gets `{"type":"pong"}`,
    // so a screen can tell a quiet plant from a dead connection. Anything else is ignored.
    socket.on("message", (data: Buffer) => {
      if (data.length < 64 && data.toString() === '{"type":"ping"}' && socket.readyState === WebSocket.OPEN) socket.send('{"type":"pong"}');
    });
    try {
      await this.refresh();
    } catch (error) {
      this.deps.log.warn({ err: error }, "dashboard: could not load the devices' state");
      if (!this.loaded) {
        socket.close(WS_CLOSE.internalError, "the server could not load the devices: reconnect");
        return;
      }
    }
    if (socket.readyState !== WebSocket.OPEN || this.closing) return;
    if (client.kioskId !== null && this.revokedKiosks.has(client.kioskId)) {
      socket.close(WS_CLOSE.revoked, "kiosk token revoked");
      return;
    }
    // From here every change reaches the client's pending map: the snapshot is now.
    const snapshot: RealtimeFrame = { type: "realtime", data: [...this.items.values()] };
    socket.send(JSON.stringify(snapshot));
    client.lastFlush = Date.now();
    this.clients.add(client);
  }

  /** Closes the screens of a revoked kiosk token at once (4001). */
  revokeKiosk(id: number): void {
    this.revokedKiosks.add(id);
    for (const client of this.clients) if (client.kioskId === id) this.drop(client, WS_CLOSE.revoked, "kiosk token revoked");
  }

  /** Takes a `readings` bus message: the newest reading of each device in a committed batch. */
  hearReadings(message: unknown): void {
    if (!Array.isArray(message)) return;
    this.whenLoaded(() => {
      for (const item of message as unknown[]) {
        if (!isReading(item)) continue;
        const device = this.devices.get(item.sn);
        if (!device || (device.ts !== undefined && item.ts < device.ts)) continue;
        device.ppm = item.ppm;
        device.ts = item.ts;
        device.readingStatus = item.status;
        // A stored reading is what makes a device online (the workers announce it right after).
        device.online = true;
        this.update(device);
      }
    });
  }

  /** Takes a `device.status` bus message: a device went online or offline. */
  hearStatus(message: unknown): void {
    const { sn, online } = (message ?? {}) as { sn?: unknown; online?: unknown };
    if (typeof sn !== "string" || typeof online !== "boolean") return;
    this.whenLoaded(() => {
      const device = this.devices.get(sn);
      if (!device) return;
      device.online = online;
      this.update(device);
    });
  }

  /** Takes an `alarm` bus message: sent to every client at once; the device's level and status follow in the next realtime frame. */
  hearAlarm(message: unknown): void {
    if (!isAlarmEvent(message)) return;
    this.whenLoaded(() => {
      const device = this.devices.get(message.sn);
      if (!device) return;
      applyAlarm(device, message);
      const frame: AlarmFrame = {
        type: "alarm",
        data: {
          sn: message.sn, ppm: message.ppm ?? 0, type: message.type, id: message.id, level: message.level,
          kind: message.kind, state: message.state, at: message.at, ...(message.late === true && { late: true }),
        },
      };
      const text = JSON.stringify(frame);
      for (const client of this.clients) {
        if (client.socket.readyState !== WebSocket.OPEN) continue;
        if (client.socket.bufferedAmount > this.closeBytes) this.drop(client, WS_CLOSE.tryAgainLater, "too slow: reconnect to resynchronise");
        else client.socket.send(text);
      }
      this.update(device);
    });
  }

  /** Takes a `device.changed` bus message: a device was created, changed (maintenance, say) or deleted. */
  hearDeviceChanged(message: unknown): void {
    const { sn, action } = (message ?? {}) as { sn?: unknown; action?: unknown };
    if (typeof sn !== "string") return;
    if (action === "deleted") {
      this.whenLoaded(() => {
        this.devices.delete(sn);
        this.items.delete(sn);
        for (const client of this.clients) client.pending.delete(sn);
      });
      return;
    }
    if (!this.loaded && !this.loading) return;
    void this.deps.devices
      .get(sn)
      .then((record) => {
        if (!record) return;
        this.whenLoaded(() => {
          const device = this.devices.get(sn) ?? newDevice(sn);
          device.inhibitUntil = inhibitUntil(record);
          this.devices.set(sn, device);
          this.update(device);
        });
      })
      .catch((error: unknown) => this.deps.log.warn({ err: error, sn }, "dashboard: could not reload a changed device"));
  }

  /** Closes every socket with 1001 and waits (briefly) for them to go; the app is closing. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.ping);
    const sockets = [...this.clients].map((client) => client.socket);
    for (const client of [...this.clients]) this.drop(client, WS_CLOSE.goingAway, "server shutting down");
    await Promise.race([
      Promise.all(sockets.map((socket) => (socket.readyState === WebSocket.CLOSED ? undefined : new Promise((resolve) => socket.once("close", resolve))))),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
    for (const socket of sockets) if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
  }

  /** Reloads the state from the stores (one load at a time; callers meanwhile share it). Changed devices go to every client. */
  refresh(): Promise<void> {
    if (this.loading) return this.loading;
    this.queued = [];
    this.loading = (async () => {
      try {
        this.install(await this.load());
      } finally {
        const queued = this.queued ?? [];
        this.queued = null;
        this.loading = null;
        for (const apply of queued) apply();
      }
    })();
    return this.loading;
  }

  private async load(): Promise<Loaded> {
    const [records, live, alarms] = await Promise.all([
      this.deps.devices.list(),
      this.deps.liveState.all(),
      this.deps.db.query<Loaded["alarms"][number]>(
        `SELECT id::float8 AS id, sn, type, level::int AS level, condition_active FROM alarms WHERE state <> 'closed' ORDER BY id`,
      ),
    ]);
    return { records, live, alarms };
  }

  private install({ records, live, alarms }: Loaded): void {
    const bySn = new Map<string, Map<number, OpenAlarmState>>();
    for (const alarm of alarms) {
      const map = bySn.get(alarm.sn) ?? new Map<number, OpenAlarmState>();
      map.set(Number(alarm.id), { type: alarm.type, level: Number(alarm.level), active: alarm.condition_active });
      bySn.set(alarm.sn, map);
    }
    const known = new Set<string>();
    for (const record of records) {
      known.add(record.sn);
      const state = live.get(record.sn);
      // As GET /api/devices has it: online from the workers' presence, the status with the latest reading.
      const device: DeviceState = {
        sn: record.sn,
        online: state?.presence.state?.online === true,
        readingStatus: state?.latest?.status,
        ppm: state?.latest?.ppm ?? 0,
        ts: state?.latest?.ts,
        inhibitUntil: inhibitUntil(record),
        alarms: bySn.get(record.sn) ?? new Map(),
      };
      this.devices.set(record.sn, device);
      this.update(device);
    }
    for (const sn of [...this.devices.keys()]) {
      if (known.has(sn)) continue;
      this.devices.delete(sn);
      this.items.delete(sn);
      for (const client of this.clients) client.pending.delete(sn);
    }
    this.loaded = true;
  }

  /** Runs `apply` now, or after the load in progress (so a load never undoes a newer event). */
  private whenLoaded(apply: () => void): void {
    if (this.queued) this.queued.push(apply);
    else if (this.loaded) apply();
  }

  /** Recomputes a device's item; if it changed, every client gets it in its next frame. */
  private update(device: DeviceState): void {
    const item = itemOf(device, this.deps.clock.now());
    const before = this.items.get(device.sn);
    if (before && sameItem(before, item)) return;
    this.items.set(device.sn, item);
    for (const client of this.clients) {
      client.pending.set(device.sn, item);
      this.schedule(client);
    }
  }

  private schedule(client: DashboardClient): void {
    if (client.timer) return;
    const wait = Math.max(0, client.lastFlush + this.flushMs - Date.now());
    client.timer = setTimeout(() => {
      client.timer = null;
      this.flush(client);
    }, wait);
  }

  private flush(client: DashboardClient): void {
    const { socket, pending } = client;
    if (pending.size === 0 || socket.readyState !== WebSocket.OPEN) return;
    const buffered = socket.bufferedAmount;
    if (buffered > this.closeBytes) {
      this.drop(client, WS_CLOSE.tryAgainLater, "too slow: reconnect to resynchronise");
      return;
    }
    client.lastFlush = Date.now();
    if (buffered > this.skipBytes) {
      // Not read yet: keep only the newest per device and try again later.
      this.schedule(client);
      return;
    }
    const frame: RealtimeFrame = { type: "realtime", data: [...pending.values()] };
    pending.clear();
    socket.send(JSON.stringify(frame));
  }

  private remove(client: DashboardClient): void {
    if (client.timer) clearTimeout(client.timer);
    client.timer = null;
    client.pending.clear();
    this.clients.delete(client);
  }

  /** Forgets a client and closes its socket; one that does not answer the close is cut after a while. */
  private drop(client: DashboardClient, code: number, reason: string): void {
    this.remove(client);
    const { socket } = client;
    if (socket.readyState === WebSocket.CLOSED) return;
    socket.close(code, reason);
    setTimeout(() => socket.readyState !== WebSocket.CLOSED && socket.terminate(), 5000).unref();
  }

  /**
   * Every ping interval: drops the clients that did not answer the last ping, pings the
   * rest, rechecks their credentials (a session ended, a kiosk token revoked on a backend
   * whose announcement was lost) and refreshes the state (maintenance that ran out, bus
   * messages missed).
   */
  sweep(): void {
    if (this.clients.size === 0) return;
    for (const client of [...this.clients]) {
      if (!client.alive) {
        this.remove(client);
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
      void client.verify().then(
        (ok) => ok || this.drop(client, WS_CLOSE.revoked, "the session ended: log in again"),
        () => {},
      );
    }
    this.refresh().catch((error: unknown) => this.deps.log.warn({ err: error }, "dashboard: could not refresh the devices' state"));
  }
}

function newDevice(sn: string): DeviceState {
  return { sn, online: false, readingStatus: undefined, ppm: 0, ts: undefined, inhibitUntil: null, alarms: new Map() };
}

function inhibitUntil(record: DeviceRecord): number | null {
  return record.inhibit_until === null ? null : Date.parse(record.inhibit_until);
}

function itemOf(device: DeviceState, nowMs: number): RealtimeItem {
  const level = gasAlarmLevel(device.alarms.values());
  return {
    sn: device.sn,
    ppm: device.ppm,
    status: device.online ? (device.readingStatus ?? "online") : "offline",
    level,
    inhibited: device.inhibitUntil !== null && device.inhibitUntil > nowMs,
    ...(device.ts !== undefined && { ts: device.ts }),
  };
}

function sameItem(a: RealtimeItem, b: RealtimeItem): boolean {
  return a.ppm === b.ppm && a.status === b.status && a.level === b.level && a.inhibited === b.inhibited && a.ts === b.ts;
}

/**
 * An alarm event's effect on the device: its open alarms (level, whether the condition
 * holds), and its status until the next reading says it (the worker's rule: a gas alarm's
 * condition → `alarm`, else a fault's → `fault`).
 */
function applyAlarm(device: DeviceState, event: AlarmBusEvent): void {
  if (event.state === "closed") device.alarms.delete(event.id);
  else {
    const known = device.alarms.get(event.id);
    const active = ACTIVE_KINDS.has(event.kind) ? true : event.kind === "condition_cleared" ? false : (known?.active ?? true);
    device.alarms.set(event.id, { type: event.type, level: event.level, active });
  }
  if (!GAS_TYPES.has(event.type) && !FAULT_TYPES.has(event.type)) return;
  const holds = (types: (type: string) => boolean) => [...device.alarms.values()].some((alarm) => alarm.active && types(alarm.type));
  if (holds((type) => GAS_TYPES.has(type))) device.readingStatus = "alarm";
  else if (holds((type) => FAULT_TYPES.has(type))) device.readingStatus = "fault";
  else if ((device.readingStatus === "alarm" && GAS_TYPES.has(event.type)) || (device.readingStatus === "fault" && FAULT_TYPES.has(event.type))) device.readingStatus = "online";
}

function isReading(value: unknown): value is { sn: string; ts: number; ppm: number; status: DeviceStatus } {
  const v = value as { sn?: unknown; ts?: unknown; ppm?: unknown; status?: unknown } | null;
  return (
    typeof v === "object" && v !== null && typeof v.sn === "string" && typeof v.ts === "number" && Number.isFinite(v.ts) &&
    typeof v.ppm === "number" && Number.isFinite(v.ppm) && DEVICE_STATUSES.includes(v.status as DeviceStatus)
  );
}

function isAlarmEvent(value: unknown): value is AlarmBusEvent {
  const v = value as Partial<Record<keyof AlarmBusEvent, unknown>> | null;
  return (
    typeof v === "object" && v !== null && typeof v.id === "number" && Number.isInteger(v.id) && typeof v.sn === "string" &&
    ALARM_TYPES.includes(v.type as AlarmBusEvent["type"]) && (v.level === 1 || v.level === 2) && typeof v.kind === "string" &&
    ALARM_STATES.has(v.state as string) && (v.ppm === null || (typeof v.ppm === "number" && Number.isFinite(v.ppm))) && typeof v.at === "string"
  );
}

/**
 * The dashboard hub (`app.dashboardHub`) and `@fastify/websocket`: one hub per backend
 * process, listening to the bus from the start. Closing the app closes the sockets (1001).
 */
export const dashboardHubPlugin = fp<DashboardHubOptions>(
  async (app, options) => {
    const hub = new DashboardHub(
      { db: app.db, devices: app.devices, liveState: app.liveState, clock: app.clock, log: app.log.child({ component: "backend.dashboard" }) },
      options,
    );
    app.decorate("dashboardHub", hub);
    // Screens send nothing of size; a screen that does not read is the hub's to handle.
    await app.register(websocket, { options: { maxPayload: 4096 }, preClose: async () => hub.close() });
    const unsubscribe = await Promise.all([
      app.bus.subscribe("readings", (message) => hub.hearReadings(message)),
      app.bus.subscribe("device.status", (message) => hub.hearStatus(message)),
      app.bus.subscribe("alarm", (message) => hub.hearAlarm(message)),
      app.bus.subscribe("device.changed", (message) => hub.hearDeviceChanged(message)),
      app.bus.subscribe(KIOSK_REVOKED_CHANNEL, (message) => {
        const id = (message as { id?: unknown } | null)?.id;
        if (typeof id !== "number" || !Number.isInteger(id)) return;
        // Checked against the database: the bus only says which token to look at.
        app.kioskTokens.active([id]).then(
          (active) => active.has(id) || hub.revokeKiosk(id),
          (error: unknown) => app.log.warn({ err: error, id }, "dashboard: could not check a revoked kiosk token"),
        );
      }),
    ]);
    app.addHook("onClose", async () => {
      await Promise.all(unsubscribe.map((off) => off().catch(() => {})));
    });
  },
  { name: "dashboard-hub", dependencies: ["ports", "repositories", "auth", "live-state"] },
);
