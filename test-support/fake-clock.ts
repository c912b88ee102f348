import type { Clock } from "../packages/platform/src/clock.ts";

/** A clock the test moves by hand: time-driven logic (expiry, silence) runs without sleeping. */
export class FakeClock implements Clock {
  constructor(public ms = Date.now()) {}
  now = () => this.ms;
  advance(ms: number) {
    this.ms += ms;
  }
}
