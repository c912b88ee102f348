import { Cron } from "croner";
import { createLogger, type LicenseGuard } from "@mcs/platform";
import { DEFAULT_TIMEZONE } from "@mcs/core";

const log = createLogger("worker.license");
/** The plan: every day at 03:00, plant time. */
export const LICENSE_CHECK_CRON = "0 3 * * *";
/** Spread over this much after 03:00 so that a vendor's customers do not all call at once. */
const JITTER_MS = 20 * 60_000;
/** A failed check is tried again after these waits, then tomorrow (grace lasts 72 h). */
const RETRY_AFTER_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000];

/** The daily check with the vendor's license server, with jitter and retries. */
export function startLicenseCheckJob(guard: LicenseGuard, options: { timezone?: string; random?: () => number } = {}): { stop(): void } {
  const random = options.random ?? Math.random;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (retry: number) => {
    const status = await guard.check().catch((error: Error) => {
      log.error({ err: error }, "license check could not run");
      return undefined;
    });
    if (status && status.last_check_error === null) return;
    const wait = RETRY_AFTER_MS[retry];
    if (wait === undefined) return;
    log.warn({ retryInS: wait / 1000, state: status?.state }, "license check failed: trying again");
    timer = setTimeout(() => void attempt(retry + 1), wait).unref();
  };
  const cron = new Cron(LICENSE_CHECK_CRON, { timezone: options.timezone ?? DEFAULT_TIMEZONE, protect: true }, () => {
    clearTimeout(timer);
    timer = setTimeout(() => void attempt(0), Math.floor(random() * JITTER_MS)).unref();
  });
  return {
    stop() {
      cron.stop();
      clearTimeout(timer);
    },
  };
}
