export type BusHandler = (message: unknown) => void;

/**
 * The Bus port: Redis pub/sub in services mode, an in-process emitter in the embedded mode.
 * Messages are JSON values; delivery is at-most-once (a listener that is away misses them),
 * so nothing that must not be lost travels only on the bus.
 */
export interface Bus {
  publish(channel: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is live; the answer unsubscribes. */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
