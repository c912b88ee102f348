/** One MQTT PUBLISH the worker has taken but not yet acknowledged. */
export interface InboundMessage {
  topic: string;
  payload: Buffer;
  /**
   * Acknowledges the message to its sender (QoS 1 PUBACK). The processor calls it only
   * after the message's readings are committed, and in the order messages arrived.
   */
  ack(): void;
}

/**
 * Where the worker's messages come from: a lean MQTT connection to Mosquitto in services
 * mode, the in-process Aedes broker in the embedded mode.
 */
export interface MessageSource {
  /** Starts delivering; resolves once subscribed. */
  start(deliver: (message: InboundMessage) => void): Promise<void>;
  /** True while connected to the broker (for /api/health). */
  readonly connected: boolean;
  stop(): Promise<void>;
  /**
   * A copy of the live device messages, at most once and never acknowledged, while the
   * worker holds its own stream (license locked): gas alarms are judged from it. Needed
   * where the held stream stops flowing (Mosquitto sends no more than its in-flight window
   * to a consumer that does not acknowledge); the embedded broker hands every message over
   * anyway, up to its flow-control limits, and has none. Resolves to the stop function.
   */
  watch?(deliver: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
}
