import type { Logger } from "./log.ts";

/**
 * Stops the process cleanly on SIGINT/SIGTERM: runs `stop` once (a second signal does not
 * start it again), exits 0 when it is done, 1 when it fails or takes over `timeoutMs`.
 */
export function stopOnSignals(log: Logger, stop: () => Promise<void>, timeoutMs = 15_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    const force = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, timeoutMs).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        clearTimeout(force);
        log.error({ err: error }, "stop failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
