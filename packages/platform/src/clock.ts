/** The Clock port: tests inject a fake one; nothing time-driven reads Date.now() directly. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
