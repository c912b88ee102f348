import { beforeAll, beforeEach } from "vitest";

/**
 * `beforeAll` whose failure fails every test of the suite, each with the set-up's error.
 * (Vitest reports the tests of a suite whose `beforeAll` threw as skipped: a broken shared
 * step would read as "nothing to see".)
 */
export function beforeAllOrFail(setup: () => Promise<void>, timeout?: number): void {
  let failure: unknown;
  beforeAll(async () => {
    try {
      await setup();
    } catch (error) {
      failure = error;
    }
  }, timeout);
  beforeEach(() => {
    if (failure) throw failure;
  });
}
