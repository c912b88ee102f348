/**
 * The emulator's time: what a detector's RTC reads and what drives its timers (report
 * period, reconnect backoff, debug mode, warm-up). Injected so that tests can run a day of
 * reports in milliseconds with a {@link FakeClock}; the network itself (MQTT keepalive,
 * TLS, downloads) always runs on real time.
 */
export interface SimClock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Opaque timer handle of a {@link SimClock}. */
export type TimerHandle = object;

export const systemClock: SimClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms)),
  clearTimeout: (handle) => {
    if (handle) clearTimeout(handle as NodeJS.Timeout);
  },
};

interface FakeTimer {
  id: number;
  due: number;
  callback: () => void;
}

/**
 * A clock that moves only when told. `advance(ms)` fires every timer that falls due on the
 * way, in due order (ties in the order they were set), with the clock reading each timer's
 * due time while its callback runs, and lets promise chains and I/O callbacks started by a
 * callback run before the next timer fires.
 */
export class FakeClock implements SimClock {
  private current: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, due: this.current + Math.max(0, ms), callback };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const id = (handle as { id?: number }).id;
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  /** Timers set and not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves the clock forward by `ms`, firing what falls due. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const timer of this.timers) {
        if (timer.due <= target && (!next || timer.due < next.due || (timer.due === next.due && timer.id < next.id))) next = timer;
      }
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.due);
      next.callback();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.current = target;
  }
}
