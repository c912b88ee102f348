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
}
