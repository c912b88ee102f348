import { createLogger, DeviceStore, systemClock, TelemetryStore, type Bus, type Cache, type Clock, type Db } from "@mcs/platform";
import { CalibrationCache } from "./calibration-cache.ts";
import type { MessageSource } from "./ingest/message-source.ts";
import { Processor, type ProcessorOptions } from "./processor/processor.ts";

const log = createLogger("worker");
const HOUR_MS = 3_600_000;

export interface WorkerOptions {
  db: Db;
  cache: Cache;
  bus: Bus;
  source: MessageSource;
  clock?: Clock;
  batch?: Pick<ProcessorOptions, "maxBatchMessages" | "maxBatchReadings" | "lingerMs">;
}

export interface Worker {
  processor: Processor;
  calibrations: CalibrationCache;
  source: MessageSource;
  /** Stops taking messages, commits what was taken, then stops. */
  stop(): Promise<void>;
}

/** Starts the ingest pipeline on a message source (the lean MQTT connection or the embedded broker). */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const clock = options.clock ?? systemClock;
  const telemetry = new TelemetryStore(options.db);
  const calibrations = new CalibrationCache(new DeviceStore(options.db), options.cache, options.bus, clock);
  await calibrations.start();
  await telemetry.partitions.ensureAhead(clock.now());
  const partitionTimer = setInterval(() => {
    telemetry.partitions.ensureAhead(clock.now()).catch((error) => log.warn({ err: error }, "could not create partitions ahead"));
  }, HOUR_MS).unref();

  const processor = new Processor({ db: options.db, telemetry, calibrations, cache: options.cache, bus: options.bus, clock, ...options.batch });
  await options.source.start((message) => processor.accept(message));
  log.info("worker started");

  return {
    processor,
    calibrations,
    source: options.source,
    async stop() {
      clearInterval(partitionTimer);
      // Acknowledge what was taken while still connected, then what arrived meanwhile
      // (those acks are lost with the connection; the broker resends and the key dedupes).
      await processor.drain();
      await options.source.stop();
      await processor.stop();
      await calibrations.stop();
      log.info({ stats: processor.stats }, "worker stopped");
    },
  };
}
