import { onBeforeUnmount, onMounted } from "vue";

/**
 * Runs `load` now and every `intervalMs` while the component lives. A run waits for the
 * previous one (a slow server is not piled on) and is skipped while the tab is hidden.
 */
export function usePolling(load: () => Promise<void>, intervalMs = 5000): { refresh: () => Promise<void> } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function refresh(): Promise<void> {
    running ??= load().finally(() => (running = undefined));
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(async () => {
      if (!document.hidden) await refresh().catch(() => {});
      schedule();
    }, intervalMs);
  }

  onMounted(() => {
    void refresh().catch(() => {});
    schedule();
  });
  onBeforeUnmount(() => {
    stopped = true;
    clearTimeout(timer);
  });
  return { refresh };
}
