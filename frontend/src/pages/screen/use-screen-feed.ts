import { computed, onBeforeUnmount, onMounted, reactive, ref, shallowRef, triggerRef } from "vue";
import type { AlarmFrame, Device, Floorplan, RealtimeItem } from "@mcs/protocol";
import { CLOSE_CODES, DashboardConnection, type ConnectionState } from "../../api/dashboard.ts";
import { ApiError } from "../../api/http.ts";
import { applyAlarmFrame, fromRest, isNewAlarm, type AlarmMap } from "./alarm-list.ts";
import { mergeDevice, type ScreenDevice } from "./device-look.ts";
import { kioskToken } from "./kiosk.ts";
import { screenApi } from "./screen-api.ts";

/** Open alarms are fetched again this often (a safety net under the alarm frames). */
const ALARMS_RESYNC_MS = 60_000;
/** Devices (names, units) and plans are fetched again this often, and at every reconnect. */
const CATALOG_RESYNC_MS = 5 * 60_000;
/** Not live for this long: the screen says so, unmistakably. */
export const BANNER_AFTER_MS = 3_000;

/** Why the screen cannot show anything: no login, or the kiosk token was revoked. */
export type Denied = "unauthenticated" | "revoked" | null;

/**
 * Everything the big screen shows, kept live: devices (stored + the WebSocket's state),
 * open alarms, floor plans, and the connection. Every new connection replaces the devices'
 * state with its snapshot and fetches the open alarms again, so nothing from before a loss
 * lingers. Alarm frames that arrive while the list is being fetched are applied on top of it.
 */
export function useScreenFeed(onNewAlarm: () => void) {
  const token = kioskToken();
  const stored = shallowRef(new Map<string, Device>());
  const live = shallowRef(new Map<string, RealtimeItem>());
  const alarms = shallowRef<AlarmMap>(new Map());
  const plans = shallowRef<Floorplan[]>([]);
  const denied = ref<Denied>(null);
  /** Whether the open alarms were fetched since the last connection (the list is complete). */
  const alarmsSynced = ref(false);

  const connection = reactive({
    state: "connecting" as ConnectionState,
    /** Epoch ms of the last frame from the server; 0 before any. */
    lastMessageAt: 0,
    /** Epoch ms since when the screen is not live (0 while live). */
    downSince: Date.now(),
    retryAt: null as number | null,
    attempt: 0,
    /** Whether anything was ever shown (the first connection succeeded once). */
    everLive: false,
  });

  /** A clock for "how long since" texts and the banner; ticks every second. */
  const now = ref(Date.now());

  const devices = computed<ScreenDevice[]>(() => {
    const at = now.value;
    const sns = new Set([...stored.value.keys(), ...live.value.keys()]);
    return [...sns].sort().map((sn) => mergeDevice(sn, stored.value.get(sn), live.value.get(sn), at));
  });
  const deviceBySn = computed(() => new Map(devices.value.map((device) => [device.sn, device])));

  /** Lost for longer than the grace time, or open but silent: the banner shows. */
  const showBanner = computed(() => connection.state !== "live" && connection.state !== "denied" && now.value - connection.downSince >= BANNER_AFTER_MS);
  /** Values on screen may be out of date: grey them (not for the blink of a quick reconnect). */
  const stale = computed(() => connection.state !== "live" && connection.state !== "denied" && now.value - connection.downSince >= 1000);

  // ── REST: the catalogue (devices, plans) and the open alarms ───────────────────────
  let pendingFrames: AlarmFrame["data"][] | null = null;
  let alarmsLoading: Promise<void> | null = null;
  let catalogLoading: Promise<void> | null = null;

  function refused(error: unknown): boolean {
    if (error instanceof ApiError && error.status === 401) {
      denied.value = token ? "revoked" : "unauthenticated";
      return true;
    }
    return false;
  }

  function loadAlarms(): Promise<void> {
    alarmsLoading ??= (async () => {
      pendingFrames = [];
      try {
        const list = await screenApi.openAlarms();
        let map: AlarmMap = new Map(list.map((alarm) => [alarm.id, fromRest(alarm)]));
        for (const frame of pendingFrames) map = applyAlarmFrame(map, frame) ?? map;
        // Raised (or worse) while no frame could tell us (between connections, at start): sound as for a frame.
        const before = alarms.value;
        const missed = [...map.values()].some((alarm) => alarm.state === "unacked" && alarm.condition_active && alarm.level > (before.get(alarm.id)?.level ?? 0));
        alarms.value = map;
        alarmsSynced.value = true;
        if (missed) onNewAlarm();
      } catch (error) {
        refused(error);
      } finally {
        pendingFrames = null;
        alarmsLoading = null;
      }
    })();
    return alarmsLoading;
  }

  function loadCatalog(): Promise<void> {
    catalogLoading ??= (async () => {
      // The plant's time zone too (every time on the screen is in it), kept as known last on a failure.
      const [list, planList] = await Promise.allSettled([screenApi.devices(), screenApi.floorplans(), screenApi.loadPlantTimeZone()]);
      if (list.status === "fulfilled") stored.value = new Map(list.value.map((device) => [device.sn, device]));
      else refused(list.reason);
      if (planList.status === "fulfilled") plans.value = planList.value;
      else refused(planList.reason);
    })().finally(() => (catalogLoading = null));
    return catalogLoading;
  }

  /** A device the catalogue does not know yet (added since): fetch it again, once for a burst. */
  let catalogTimer: ReturnType<typeof setTimeout> | undefined;
  function catalogSoon(): void {
    if (catalogTimer) return;
    catalogTimer = setTimeout(() => {
      catalogTimer = undefined;
      void loadCatalog();
    }, 2000);
  }

  // ── The WebSocket ─────────────────────────────────────────────────────────────────
  const feed = new DashboardConnection(
    {
      snapshot(items) {
        live.value = new Map(items.map((item) => [item.sn, item]));
        connection.lastMessageAt = Date.now();
        // A fresh start: the alarms and the catalogue as they are now.
        void loadAlarms();
        void loadCatalog();
      },
      realtime(items) {
        const next = new Map(live.value);
        let unknown = false;
        for (const item of items) {
          next.set(item.sn, item);
          if (!stored.value.has(item.sn)) unknown = true;
        }
        live.value = next;
        connection.lastMessageAt = Date.now();
        if (unknown) catalogSoon();
      },
      alarm(frame) {
        connection.lastMessageAt = Date.now();
        if (pendingFrames) pendingFrames.push(frame);
        const next = applyAlarmFrame(alarms.value, frame);
        if (next) alarms.value = next;
        // A late frame is about the alarm's past: its peak and when the server received it come
        // only with the list (late frames are rare: a detector's backlog).
        if (!next || frame.late) void loadAlarms();
        if (isNewAlarm(frame)) onNewAlarm();
      },
      state(state, detail) {
        const wasLive = connection.state === "live";
        connection.state = state;
        connection.retryAt = detail.retryAt;
        connection.attempt = detail.attempt;
        if (state === "live") {
          connection.downSince = 0;
          connection.everLive = true;
        } else if (wasLive || connection.downSince === 0) {
          // Silent for the whole silence limit already: no grace time left, the banner shows now.
          connection.downSince = detail.code === CLOSE_CODES.silent ? Date.now() - BANNER_AFTER_MS : Date.now();
          alarmsSynced.value = false;
        }
        if (state === "denied") denied.value = detail.code === CLOSE_CODES.kioskRevoked ? "revoked" : token ? "revoked" : "unauthenticated";
      },
    },
    { token },
  );

  let clock: ReturnType<typeof setInterval> | undefined;
  let alarmsTimer: ReturnType<typeof setInterval> | undefined;
  let catalogInterval: ReturnType<typeof setInterval> | undefined;
  onMounted(() => {
    void loadCatalog();
    feed.start();
    clock = setInterval(() => {
      now.value = Date.now();
      // Pongs and frames the handlers do not see still prove the connection alive.
      connection.lastMessageAt = Math.max(connection.lastMessageAt, feed.lastMessageAt);
    }, 1000);
    alarmsTimer = setInterval(() => {
      if (connection.state === "live") void loadAlarms();
    }, ALARMS_RESYNC_MS);
    catalogInterval = setInterval(() => {
      if (connection.state === "live") void loadCatalog();
    }, CATALOG_RESYNC_MS);
  });
  onBeforeUnmount(() => {
    feed.stop();
    clearInterval(clock);
    clearInterval(alarmsTimer);
    clearInterval(catalogInterval);
    clearTimeout(catalogTimer);
  });

  /** An answer from the server about one alarm (after an acknowledgement). */
  function updateAlarm(alarm: Parameters<typeof fromRest>[0]): void {
    const next = new Map(alarms.value);
    if (alarm.state === "closed") next.delete(alarm.id);
    else next.set(alarm.id, fromRest(alarm));
    alarms.value = next;
    triggerRef(alarms);
  }

  return {
    kiosk: token !== null,
    devices,
    deviceBySn,
    alarms,
    alarmsSynced,
    plans,
    connection,
    now,
    showBanner,
    stale,
    denied,
    updateAlarm,
    retryNow: () => feed.retryNow(),
  };
}
