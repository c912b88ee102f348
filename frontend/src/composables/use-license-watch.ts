import { onBeforeUnmount, onMounted, watch } from "vue";
import { useLicenseStore } from "../stores/license.ts";
import { useSessionStore } from "../stores/session.ts";

/** How often the app looks at the license: a lock shows within this time. */
export const LICENSE_POLL_MS = 60_000;
/** While locked, more often: the modal (on a wall screen too) goes soon after an admin unlocks elsewhere. */
export const LICENSE_POLL_LOCKED_MS = 10_000;

/**
 * Keeps the license state current for the whole app (mounted once, in App.vue): now, every
 * minute (every 10 s while locked), and whenever someone logs in or out (the source changes:
 * `/api/license` logged in, `/api/health` otherwise). Skipped while the tab is hidden.
 */
export function useLicenseWatch(): void {
  const license = useLicenseStore();
  const session = useSessionStore();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const look = () => license.refresh().catch(() => {});

  function schedule(): void {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(async () => {
      if (!document.hidden) await look();
      schedule();
    }, license.locked ? LICENSE_POLL_LOCKED_MS : LICENSE_POLL_MS);
  }

  onMounted(() => {
    void look();
    schedule();
  });
  onBeforeUnmount(() => {
    stopped = true;
    clearTimeout(timer);
  });
  // A lock seen (a refused request, say) shortens the wait at once; an unlock lengthens it.
  watch(() => license.locked, schedule);
  watch(
    () => session.user?.id,
    () => void look(),
  );
}
