/**
 * Everything a bench starts is stopped, whatever happens: in reverse order, each within 15 s,
 * on a normal end, on Ctrl-C / SIGTERM, and when the run passes its deadline.
 */
export function cleanupOnExit(log: (line: string) => void, deadlineMs: number) {
  const cleanups: { name: string; run: () => unknown }[] = [];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const onCleanup = (name: string, run: () => unknown): void => {
    cleanups.push({ name, run });
  };
  async function cleanUp(): Promise<void> {
    while (cleanups.length > 0) {
      const { name, run } = cleanups.pop()!;
      try {
        await Promise.race([run(), sleep(15_000).then(() => { throw new Error("timed out"); })]);
      } catch (error) {
        log(`cleanup of ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  let aborting = false;
  async function abort(reason: string, code: number): Promise<never> {
    if (!aborting) {
      aborting = true;
      log(`${reason}: stopping everything`);
      await cleanUp();
    }
    process.exit(code);
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void abort(`received ${signal}`, 130));
  setTimeout(() => void abort(`deadline of ${deadlineMs / 1000} s exceeded`, 1), deadlineMs).unref();
  return { onCleanup, cleanUp, abort };
}
