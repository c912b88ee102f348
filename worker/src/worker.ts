import {
  AlarmStore,
  ChannelStore,
  CommandDelivery,
  OutboxStore,
  CommandStore,
  createLogger,
  DeviceStore,
  PresenceStore,
  SettingsStore,
  systemClock,
  TelemetryStore,
  type Bus,
  type Cache,
  type Clock,
  type CommandPublisher,
  type Db,
  type LicenseGuard,
} from "@mcs/platform";
import { Archiver, type ArchiverOptions } from "./archive/archiver.ts";
import { startArchiveJob } from "./archive/archive-job.ts";
import { HeldStreamWatch } from "./license/held-stream-watch.ts";
import { startLicenseCheckJob } from "./license/license-check-job.ts";
import { AlarmEngine } from "./alarms/alarm-engine.ts";
import { NotificationDispatcher } from "./alarms/notification-dispatcher.ts";
import { CalibrationCache } from "./calibration-cache.ts";
import { CommandSweep } from "./commands/command-sweep.ts";
import type { MessageSource } from "./ingest/message-source.ts";
import { startExclusiveJob, type ExclusiveJob } from "./lib/exclusive-job.ts";
import { DEFAULT_REPORT_INTERVAL_S, PresenceTracker } from "./presence/presence-tracker.ts";
import { ControlMessages } from "./processor/control-messages.ts";
import { Processor, type ProcessorOptions } from "./processor/processor.ts";

const log = createLogger("worker");
const HOUR_MS = 3_600_000;
/** How often the silence and command sweeps run (in one worker at a time). */
const SWEEP_EVERY_MS = 5_000;

export interface WorkerOptions {
  db: Db;
  cache: Cache;
  bus: Bus;
  source: MessageSource;
  /** Sends commands (`mcs/{sn}/cmd`); without it, pending commands wait for the backend to send them. */
  commands?: CommandPublisher;
  clock?: Clock;
  batch?: Pick<ProcessorOptions, "maxBatchMessages" | "maxBatchReadings" | "lingerMs">;
  /** Period of the silence and command sweeps (default 5 s). */
  sweepEveryMs?: number;
  /** Period of the notification dispatcher (default 2 s). */
  notifyEveryMs?: number;
  /** Channel senders (tests may replace one); default: the real ones. */
  senders?: ConstructorParameters<typeof NotificationDispatcher>[0]["senders"];
  /** Where people acknowledge alarms, put in each notification (e.g. https://gas.plant.example/alarms). */
  alarmLink?: string;
  /**
   * The license guard (started by its owner). While it locks, readings are held in the
   * broker, not stored, and the gas alarms are judged from the held stream (docs/license.md).
   * Without one, nothing is ever held.
   */
  license?: LicenseGuard;
  /** The nightly archive (docs/archive.md), and the runs asked for; without it this worker runs none. */
  archive?: Pick<ArchiverOptions, "dataDir" | "defaultHotDays" | "crashAt"> & { pollMs?: number };
}

export interface Worker {
  processor: Processor;
  calibrations: CalibrationCache;
  presence: PresenceTracker;
  commandSweep: CommandSweep;
  alarms: AlarmEngine;
  notifications: NotificationDispatcher;
  source: MessageSource;
  archiver: Archiver | undefined;
  /** Stops taking messages, commits what was taken, then stops. */
  stop(): Promise<void>;
}

/** Starts the ingest pipeline on a message source (the lean MQTT connection or the embedded broker). */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const clock = options.clock ?? systemClock;
  const devices = new DeviceStore(options.db);
  const telemetry = new TelemetryStore(options.db);
  const commands = new CommandStore(options.db);
  const presenceStore = new PresenceStore(options.cache);
  const calibrations = new CalibrationCache(devices, options.cache, options.bus, clock);
  await calibrations.start();
  await telemetry.partitions.ensureAhead(clock.now());
  const partitionTimer = setInterval(() => {
    telemetry.partitions.ensureAhead(clock.now()).catch((error) => log.warn({ err: error }, "could not create partitions ahead"));
  }, HOUR_MS).unref();

  const delivery = options.commands ? new CommandDelivery(commands, options.commands, clock) : undefined;
  const alarmStore = new AlarmStore(options.db);
  const alarms = new AlarmEngine({
    alarms: alarmStore, channels: new ChannelStore(options.db), bus: options.bus, clock, deviceOf: (sn) => calibrations.get(sn),
    readingsAfter: (sn, after) => telemetry.readingsAfter(sn, after),
    newestKeys: (sns, limits) => telemetry.newestKeys(sns, limits),
    alarmHistory: (sn) => devices.alarmHistory(sn),
  });
  await alarms.start();
  const plantSettings = new SettingsStore(options.db);
  const notifications = new NotificationDispatcher({
    outbox: new OutboxStore(options.db), alarms: alarmStore, channels: alarms.channelCache, cache: options.cache, clock, senders: options.senders, link: options.alarmLink,
    // The plant's zone, read once per sending pass: a change in the settings shows in the next message.
    plantTimeZone: () => plantSettings.plantTimeZone((problem) => log.warn({ problem }, "the plant time zone is unusable: notifications write Asia/Shanghai times")),
  });
  const presence = new PresenceTracker({
    store: presenceStore,
    bus: options.bus,
    clock,
    reportIntervalOf: (sn) => {
      const device = calibrations.get(sn);
      return device ? (device.report_interval_s ?? DEFAULT_REPORT_INTERVAL_S) : undefined;
    },
    // A device that comes back gets what waited for it.
    onOnline: (sn) => void delivery?.deliver(sn),
    onChange: (signal) => alarms.presence(signal.sn, signal.online, signal.at, signal.reason),
  });
  await presence.start();
  const commandSweep = new CommandSweep(commands, presenceStore, clock, delivery);
  const everyMs = options.sweepEveryMs ?? SWEEP_EVERY_MS;
  const jobs: ExclusiveJob[] = [
    startExclusiveJob({ cache: options.cache, name: "presence-sweep", everyMs, run: () => presence.sweep() }),
    startExclusiveJob({ cache: options.cache, name: "command-sweep", everyMs, run: () => commandSweep.run() }),
    startExclusiveJob({ cache: options.cache, name: "notify", everyMs: options.notifyEveryMs ?? 2_000, run: () => notifications.run() }),
  ];

  const processor = new Processor({
    db: options.db, telemetry, calibrations, cache: options.cache, bus: options.bus, clock,
    control: new ControlMessages(devices, commands, clock), presence, alarms, ...options.batch,
  });
  const archiver = options.archive ? new Archiver({ db: options.db, clock, ...options.archive }) : undefined;
  const archiveJob = archiver ? startArchiveJob(archiver, { now: () => clock.now(), pollMs: options.archive?.pollMs }) : undefined;
  const unlicensed = options.license ? guardIngest(options.license, processor, options.source, alarms, presence, clock) : undefined;
  await options.source.start((message) => processor.accept(message));
  log.info({ commands: options.commands ? "sends" : "leaves to the backend" }, "worker started");

  return {
    processor,
    calibrations,
    presence,
    commandSweep,
    alarms,
    notifications,
    source: options.source,
    archiver,
    async stop() {
      clearInterval(partitionTimer);
      await archiveJob?.stop();
      await unlicensed?.stop();
      // Acknowledge what was taken while still connected, then what arrived meanwhile
      // (those acks are lost with the connection; the broker resends and the key dedupes).
      await processor.drain();
      await options.source.stop();
      await processor.stop();
      await Promise.all(jobs.map((job) => job.stop()));
      await delivery?.idle();
      await presence.stop();
      await alarms.stop();
      await calibrations.stop();
      log.info({ stats: processor.stats }, "worker stopped");
    },
  };
}

/**
 * Follows the license: while it locks, the processor holds the stream and the held-stream
 * watch judges gas alarms from it (and from the live copy, where the source has one);
 * unlocked, the held readings are stored in order. Also runs the daily check at 03:00.
 */
function guardIngest(guard: LicenseGuard, processor: Processor, source: MessageSource, alarms: AlarmEngine, presence: PresenceTracker, clock: Clock): { stop(): Promise<void> } {
  let watch: HeldStreamWatch | undefined;
  let stopCopy: Promise<() => Promise<void>> | undefined;
  const follow = (locked: boolean) => {
    if (locked && !watch) {
      const current = new HeldStreamWatch({ readingsOf: (copies) => processor.readingsOf(copies), showLive: (rows) => processor.showLive(rows), alarms, presence });
      watch = current;
      processor.holdStream((message) => current.take(message.topic, message.payload, clock.now()));
      stopCopy = source.watch?.((topic, payload) => current.take(topic, payload, clock.now()));
      stopCopy?.catch((error) => log.error({ err: error }, "no live copy of the stream: gas alarms are judged from the held messages only"));
      log.error({ state: guard.status.state, reason: guard.status.reason }, "license locked: readings are held in the broker, not stored; gas alarms are still judged and notified");
    } else if (!locked && watch) {
      const ending = watch;
      watch = undefined;
      void stopCopy?.then((stop) => stop()).catch(() => undefined);
      stopCopy = undefined;
      void ending.stop().finally(() => processor.releaseStream());
      log.warn({ judgedWhileHeld: ending.judged }, "license unlocked: storing the held readings");
    }
  };
  const unsubscribe = guard.onChange((status) => follow(status.locked));
  follow(guard.locked);
  const job = startLicenseCheckJob(guard);
  return {
    async stop() {
      unsubscribe();
      job.stop();
      await stopCopy?.then((stop) => stop()).catch(() => undefined);
      await watch?.stop();
    },
  };
}
