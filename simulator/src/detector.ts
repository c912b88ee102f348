import mqtt, { type MqttClient } from "mqtt";
import { topics, type Reading } from "@mcs/protocol";
import { Signal } from "./signal.ts";

export interface DetectorOptions {
  sn: string;
  password: string;
  /** `mqtts://host:8883` */
  url: string;
  /** PEM of the CA the broker's certificate chains to. */
  ca?: string | Buffer;
  intervalMs?: number;
  seed?: number;
  fw?: string;
}

/**
 * One emulated gas detector: connects over TLS as its serial number, publishes its
 * retained status (and leaves `{"online":false}` as its will), then a reading every
 * interval with a per-boot `seq`. (The full firmware state machine — offline backlog,
 * commands, OTA — comes with the detector issue.)
 */
export class Detector {
  readonly sn: string;
  sent = 0;
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private readonly signal: Signal;

  constructor(private readonly options: DetectorOptions) {
    this.sn = options.sn;
    this.signal = new Signal(options.seed ?? hash(options.sn));
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    const { sn, password, url, ca } = this.options;
    this.client = mqtt.connect(url, {
      username: sn,
      password,
      clientId: `det-${sn}`,
      protocolVersion: 4,
      ca,
      rejectUnauthorized: true,
      reconnectPeriod: 2_000,
      connectTimeout: 10_000,
      will: { topic: topics.status(sn), payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
    });
    this.client.on("error", () => {}); // reconnects by itself
    this.client.on("connect", () => {
      void this.client?.publishAsync(topics.status(sn), JSON.stringify({ online: true, fw: this.options.fw ?? "1.0.0", boot: 1 }), { qos: 1, retain: true });
    });
    await new Promise<void>((resolve, reject) => {
      this.client!.once("connect", () => resolve());
      this.client!.once("error", reject);
    });
    const interval = this.options.intervalMs ?? 10_000;
    this.timer = setInterval(() => void this.report(), interval);
    void this.report();
  }

  /** Publishes one reading (or a given one) at QoS 1; resolves when the server acknowledged it. */
  async report(reading?: Reading): Promise<void> {
    const r = reading ?? this.signal.next(Math.floor(Date.now() / 1000), ++this.seq);
    await this.client?.publishAsync(topics.up(this.sn), JSON.stringify(r), { qos: 1 });
    this.sent++;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.client?.endAsync();
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (const char of text) h = Math.imul(h ^ char.charCodeAt(0), 16777619);
  return h >>> 0;
}
