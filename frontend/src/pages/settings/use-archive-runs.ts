import { computed, onBeforeUnmount, onMounted, ref } from "vue";
import type { ArchiveRun } from "@mcs/protocol";
import { archiveApi, isActive } from "../../api/archive.ts";
import { describeError } from "../../lib/feedback.ts";

/** How often the list is read while a run is queued or running. */
export const ACTIVE_POLL_MS = 2000;
/** A run just asked for that the list does not show yet is looked for this many times more. */
const MISSING_POLLS = 5;

/**
 * The archive runs, newest first, read once and then every 2 s while one is queued or
 * running (nothing is polled when all are done). The run this page started, or found
 * running, is followed: `outcome` is that run once it has finished.
 */
export function useArchiveRuns(onFinished: (run: ArchiveRun) => void) {
  const runs = ref<ArchiveRun[]>([]);
  const loading = ref(false);
  const error = ref("");
  /** The run being followed to its outcome. */
  const followed = ref<number | null>(null);
  const outcome = ref<ArchiveRun | null>(null);
  const active = computed(() => runs.value.find(isActive) ?? null);

  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let missing = 0;

  async function read(): Promise<void> {
    loading.value = true;
    try {
      runs.value = await archiveApi.runs();
      error.value = "";
    } catch (failure) {
      error.value = describeError(failure);
    } finally {
      loading.value = false;
    }
    follow();
    schedule();
  }

  /** Reads the list now (a read in flight is joined, not doubled). */
  function load(): Promise<void> {
    running ??= read().finally(() => (running = undefined));
    return running;
  }

  function follow(): void {
    if (followed.value === null) {
      // A run found going (the night's, or one another admin started) is followed too.
      if (active.value) followed.value = active.value.id;
      return;
    }
    const run = runs.value.find((candidate) => candidate.id === followed.value);
    if (!run) {
      if (++missing > MISSING_POLLS) followed.value = null;
      return;
    }
    missing = 0;
    if (isActive(run)) return;
    outcome.value = run;
    followed.value = null;
    onFinished(run);
  }

  function schedule(): void {
    clearTimeout(timer);
    if (stopped || (!active.value && followed.value === null)) return;
    timer = setTimeout(() => void load(), ACTIVE_POLL_MS);
  }

  /** Starts a run and follows it. */
  async function start(before?: string): Promise<void> {
    const id = await archiveApi.run(before);
    outcome.value = null;
    followed.value = id;
    missing = 0;
    await load();
  }

  onMounted(() => void load());
  onBeforeUnmount(() => {
    stopped = true;
    clearTimeout(timer);
  });

  return { runs, loading, error, active, followed, outcome, load, start };
}
