import { Cron } from "croner";
import { DEFAULT_TIMEZONE } from "@mcs/core";
import { createLogger } from "@mcs/platform";
import type { Archiver } from "./archiver.ts";

const log = createLogger("worker.archive");
/** The plan: every night at 02:00, plant time. */
export const ARCHIVE_CRON = "0 2 * * *";
/** How soon a run asked for (API, CLI) starts. */
const POLL_MS = 2_000;

/** The plant's day at `ms` (YYYY-MM-DD in its time zone): a scheduled run is queued once for it. */
function plantDay(ms: number, timezone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(ms);
}

/**
 * Queues the nightly run at 02:00 (once, however many workers do so) and runs queued runs
 * in this worker when no other worker is running one.
 */
export function startArchiveJob(archiver: Archiver, options: { timezone?: string; pollMs?: number; now: () => number }): { stop(): Promise<void> } {
  const timezone = options.timezone ?? DEFAULT_TIMEZONE;
  let running: Promise<unknown> | undefined;
  const cron = new Cron(ARCHIVE_CRON, { timezone, protect: true }, async () => {
    const now = options.now();
    await archiver.runs.queue({ trigger: "schedule", by: "schedule", scheduledFor: plantDay(now, timezone) }, now).catch((error) => log.error({ err: error }, "could not queue the nightly archive run"));
  });
  const poll = setInterval(() => {
    running ??= archiver.runNext().catch((error) => log.error({ err: error }, "archive run could not start")).finally(() => (running = undefined));
  }, options.pollMs ?? POLL_MS);
  poll.unref();
  return {
    async stop() {
      cron.stop();
      clearInterval(poll);
      await running;
    },
  };
}
