import { computed, onBeforeUnmount, onMounted, ref, shallowRef } from "vue";
import type { Alarm, Overview } from "@mcs/protocol";
import { alarmsApi } from "../../api/alarms.ts";
import { DashboardConnection } from "../../api/dashboard.ts";
import { overviewApi } from "../../api/overview.ts";
import { usePolling } from "../../composables/use-polling.ts";
import { describeError } from "../../lib/feedback.ts";

/** Fetched again this often (and at once on every alarm event). */
export const OVERVIEW_POLL_MS = 5000;
/** Not fetched for this long: what the page shows may be out of date, and it says so in red. */
export const STALE_AFTER_MS = 15_000;
/** Alarm events that come in a burst (raised, then its level): one fetch for them. */
const ALARM_EVENT_DEBOUNCE_MS = 300;

/**
 * The overview's data, kept live: `GET /api/overview` and the open alarms, fetched every
 * 5 seconds and at once when the dashboard feed (`/ws/dashboard`) announces an alarm event
 * (raised, acknowledged, cleared, closed: on any page, any screen). The page may call the
 * plant normal only while `trustworthy`: both loaded, neither failing, neither stale.
 */
export function useOverview() {
  const overview = shallowRef<Overview | null>(null);
  const alarms = shallowRef<Alarm[] | null>(null);
  const overviewError = ref("");
  const alarmsError = ref("");
  /** Epoch ms (this browser's clock) of the last successful fetch of each; 0 before any. */
  const overviewAt = ref(0);
  const alarmsAt = ref(0);
  const now = ref(Date.now());

  async function loadOverview(): Promise<void> {
    try {
      overview.value = await overviewApi.get();
      overviewAt.value = Date.now();
      overviewError.value = "";
    } catch (error) {
      overviewError.value = describeError(error);
    }
  }

  async function loadAlarms(): Promise<void> {
    try {
      alarms.value = await alarmsApi.list({ state: "open" });
      alarmsAt.value = Date.now();
      alarmsError.value = "";
    } catch (error) {
      alarmsError.value = describeError(error);
    }
  }

  // An alarm event during a fetch may not be in its answer: fetch once more after it.
  let busy = false;
  let again = false;
  const { refresh } = usePolling(async () => {
    busy = true;
    try {
      await Promise.all([loadOverview(), loadAlarms()]);
    } finally {
      busy = false;
      now.value = Date.now();
      if (again) {
        again = false;
        setTimeout(() => void refresh(), 0);
      }
    }
  }, OVERVIEW_POLL_MS);

  let eventTimer: ReturnType<typeof setTimeout> | undefined;
  function soon(): void {
    clearTimeout(eventTimer);
    eventTimer = setTimeout(() => {
      if (busy) again = true;
      else void refresh();
    }, ALARM_EVENT_DEBOUNCE_MS);
  }

  // Only what says an alarm changed; the devices' states come with the next fetch.
  const feed = new DashboardConnection({
    snapshot: soon,
    realtime: () => {},
    alarm: soon,
  });

  const onVisible = () => {
    if (!document.hidden) void refresh();
  };
  let clock: ReturnType<typeof setInterval> | undefined;
  onMounted(() => {
    feed.start();
    document.addEventListener("visibilitychange", onVisible);
    clock = setInterval(() => (now.value = Date.now()), 1000);
  });
  onBeforeUnmount(() => {
    feed.stop();
    document.removeEventListener("visibilitychange", onVisible);
    clearInterval(clock);
    clearTimeout(eventTimer);
  });

  const overviewStale = computed(() => overviewAt.value > 0 && now.value - overviewAt.value > STALE_AFTER_MS);
  const alarmsStale = computed(() => alarmsAt.value > 0 && now.value - alarmsAt.value > STALE_AFTER_MS);
  /** Loaded, current, and not failing: only then may anything be called normal. */
  const trustworthy = computed(
    () => overview.value !== null && alarms.value !== null && !overviewError.value && !alarmsError.value && !overviewStale.value && !alarmsStale.value,
  );
  /** The older of the two fetches (what the page's "updated at" says). */
  const updatedAt = computed(() => (overviewAt.value && alarmsAt.value ? Math.min(overviewAt.value, alarmsAt.value) : 0));

  return { overview, alarms, overviewError, alarmsError, overviewStale, alarmsStale, trustworthy, updatedAt, refresh };
}
