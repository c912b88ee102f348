import { createPublicKey, randomBytes, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { licenseStatus, verifyCheckAnswer, verifyLicenseFile, type CheckRequest, type GuardRecord, type LicenseStatus } from "@mcs/core";
import type { Bus } from "../bus/bus.ts";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/db.ts";
import { createLogger } from "../log.ts";
import { LicenseStore, type CheckOutcome } from "../stores/license-store.ts";
import { readMachineFingerprint } from "./machine-fingerprint.ts";
import { DeviceStore, type Actor } from "../stores/device-store.ts";

const log = createLogger("license");
/** The vendor's public key shipped with the product (`MCS_LICENSE_PUBKEY` names another). */
export const VENDOR_PUBLIC_KEY_FILE = fileURLToPath(new URL("./vendor-public-key.pem", import.meta.url));
/** Offline verification (signature, machine, expiry, grace) runs this often, and at start. */
const VERIFY_EVERY_MS = 3_600_000;
const CHECK_TIMEOUT_MS = 15_000;
/** How long a start waits for the record (then goes on, unknown, and keeps trying). */
const START_WAIT_MS = 3_000;
/** Between refreshes the state is recomputed from the loaded record this often (a pure, cheap step). */
const RECOMPUTE_EVERY_MS = 10_000;

export function loadLicensePublicKey(file = VENDOR_PUBLIC_KEY_FILE): KeyObject {
  try {
    return createPublicKey(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`MCS_LICENSE_PUBKEY: cannot read an Ed25519 public key (PEM) from ${file}: ${(error as Error).message}`);
  }
}

export interface LicenseGuardOptions {
  db: Db;
  bus: Bus;
  clock: Clock;
  publicKey: KeyObject;
  /** This machine's fingerprint (null: no machine id). */
  fingerprint: string | null;
  /** `MCS_LICENSE_SERVER`: the check address; else the license's own. */
  server?: string | undefined;
  /** The check's HTTP client (tests put a fake server behind a real one). */
  fetch?: typeof fetch;
}

export type InstallResult = { ok: true; status: LicenseStatus } | { ok: false; reason: string };

/**
 * The license guard of one process (the worker's and the backend's share the database
 * row): the state from the stored record and the clock, refreshed hourly and whenever
 * another process changes the record, the vendor's check, and the install of a file.
 */
export class LicenseGuard {
  private readonly store: LicenseStore;
  private readonly devices: DeviceStore;
  private current: LicenseStatus | undefined;
  private record: GuardRecord | undefined;
  private computedAt = 0;
  private readonly listeners = new Set<(status: LicenseStatus, previous: LicenseStatus | undefined) => void>();
  private timer: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;
  private stopped = false;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly options: LicenseGuardOptions) {
    this.store = new LicenseStore(options.db);
    this.devices = new DeviceStore(options.db);
  }

  get fingerprint(): string | null {
    return this.options.fingerprint;
  }

  /** Whether the record was read: before that the state is unknown (and nothing locked). */
  get known(): boolean {
    return this.record !== undefined;
  }

  /** The state now, from the record as last loaded (`refresh` first): grace runs out on time, not at the next refresh. */
  get status(): LicenseStatus {
    if (!this.record) throw new Error("LicenseGuard: the license record has not been read yet");
    if (this.options.clock.now() - this.computedAt >= RECOMPUTE_EVERY_MS) this.compute(this.record);
    return this.current!;
  }

  get locked(): boolean {
    return this.record ? this.status.locked : false;
  }

  /** Why one more device may not be registered (the license's device limit), or null. */
  async deviceLimitReached(): Promise<string | null> {
    const { device_limit: limit, state } = this.record ? this.status : await this.refresh();
    const used = await this.devices.count();
    if (used < limit) return null;
    return `the ${state === "trial" ? "trial's" : "license's"} device limit is ${limit} and ${used} devices are registered: a license for more devices is needed`;
  }

  onChange(listener: (status: LicenseStatus, previous: LicenseStatus | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads the state, waiting at most a few seconds: a process must start with its database
   * down (health says so). Until the record is read the state is unknown and nothing is
   * locked; it is tried again every few seconds.
   */
  async start(): Promise<void> {
    this.unsubscribe = await this.options.bus.subscribe("license.changed", () => {
      this.refresh().catch((error) => log.warn({ err: error }, "license state not refreshed"));
    });
    this.timer = setInterval(() => {
      this.refresh().catch((error) => log.warn({ err: error }, "license state not refreshed"));
    }, VERIFY_EVERY_MS).unref();
    // Grace runs out on time even where nobody asks (the worker): the state is looked at each minute.
    this.tick = setInterval(() => void (this.record && this.status), 60_000).unref();
    const first = this.loadUntilRead();
    await Promise.race([first, new Promise((resolve) => setTimeout(resolve, START_WAIT_MS).unref())]);
  }

  private async loadUntilRead(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.refresh();
        return;
      } catch (error) {
        log.error({ err: error }, "the license record cannot be read (database down?): trying again");
        await new Promise((resolve) => setTimeout(resolve, START_WAIT_MS).unref());
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.tick);
    await this.unsubscribe?.();
  }

  /** Recomputes the state from the stored record (offline: signature, machine, expiry, grace). */
  async refresh(): Promise<LicenseStatus> {
    this.record = await this.store.load(this.options.clock.now());
    return this.compute(this.record);
  }

  private compute(record: GuardRecord): LicenseStatus {
    const now = this.options.clock.now();
    this.computedAt = now;
    const status = licenseStatus({ record, publicKey: this.options.publicKey, fingerprint: this.options.fingerprint, server: this.options.server, now });
    const previous = this.current;
    this.current = status;
    if (previous?.state !== status.state || previous.reason !== status.reason) {
      if (previous?.state !== status.state) log.warn({ state: status.state, reason: status.reason, was: previous?.state }, "license state");
      for (const listener of this.listeners) listener(status, previous);
    }
    return status;
  }

  /**
   * Installs a license file. One that is not genuine (format, signature) is refused with
   * the reason and the installed one stays. A genuine one is installed even if it is for
   * another machine or has expired (the state then says so: `invalid`, `expired`), and is
   * checked with the vendor at once.
   */
  async install(text: string, actor: Actor): Promise<InstallResult> {
    const now = this.options.clock.now();
    const record = await this.store.load(now);
    const verdict = verifyLicenseFile(text, { publicKey: this.options.publicKey, fingerprint: this.options.fingerprint, now: Math.max(now, record.max_seen_at) });
    if (!verdict.ok && !verdict.license) return { ok: false, reason: verdict.reason };
    const license = verdict.license!;
    await this.store.install(text, now, actor, {
      id: license.id, customer: license.customer, plant: license.plant, device_limit: license.device_limit, expires_at: license.expires_at, verdict: verdict.ok ? "genuine" : verdict.reason,
    });
    if (verdict.ok && this.serverOf(license.server)) await this.checkRecorded();
    const status = await this.refresh();
    await this.announce(status);
    return { ok: true, status };
  }

  /** Checks with the vendor's server now (the daily job, "check now"), records the outcome. */
  async check(): Promise<LicenseStatus> {
    await this.checkRecorded();
    const status = await this.refresh();
    await this.announce(status);
    return status;
  }

  private serverOf(own: string | undefined): string | undefined {
    return this.options.server ?? own;
  }

  private async checkRecorded(): Promise<CheckOutcome> {
    const now = this.options.clock.now();
    const record = await this.store.load(now);
    const verdict = record.file === null ? null : verifyLicenseFile(record.file, { publicKey: this.options.publicKey, fingerprint: this.options.fingerprint, now: Math.max(now, record.max_seen_at) });
    const license = verdict?.ok ? verdict.license : verdict?.license;
    const server = license ? this.serverOf(license.server) : undefined;
    if (!license || !server || this.options.fingerprint === null) return { ok: false, error: "nothing to check: no genuine license for this machine with a license server" };
    const outcome = await this.ask(server, { license_id: license.id, fingerprint: this.options.fingerprint, nonce: randomBytes(24).toString("base64url") });
    // A clock set back makes every answer doubtful: the check counts as failed, never as a success.
    const clockBack = now < record.max_seen_at - 5 * 60_000;
    const recorded: CheckOutcome = outcome.ok && clockBack ? { ok: false, error: "the clock was set back: the check does not count" } : outcome;
    await this.store.recordCheck(recorded, Math.max(now, record.max_seen_at));
    if (!recorded.ok) log.warn({ server, error: recorded.error }, "license check failed");
    return recorded;
  }

  private async ask(server: string, request: CheckRequest): Promise<CheckOutcome> {
    const fetcher = this.options.fetch ?? fetch;
    let body: unknown;
    try {
      const response = await fetcher(server, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request), signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      });
      if (!response.ok) return { ok: false, error: `the license server answered ${response.status}` };
      body = await response.json();
    } catch (error) {
      return { ok: false, error: `the license server is unreachable (${(error as Error).message})` };
    }
    const verdict = verifyCheckAnswer(body, { publicKey: this.options.publicKey, request, now: this.options.clock.now() });
    if (!verdict.ok) return { ok: false, error: verdict.reason };
    return { ok: true, revoked: verdict.answer.status !== "valid" };
  }

  private async announce(status: LicenseStatus): Promise<void> {
    await this.options.bus.publish("license.changed", { state: status.state }).catch((error) => log.warn({ err: error }, "license change not announced"));
  }
}

/** The guard as configured (`MCS_LICENSE_PUBKEY`, `MCS_LICENSE_SERVER`), on this machine's fingerprint. */
export function createLicenseGuard(options: { db: Db; bus: Bus; clock: Clock; publicKeyFile?: string | undefined; server?: string | undefined; fingerprint?: string | null }): LicenseGuard {
  return new LicenseGuard({
    db: options.db, bus: options.bus, clock: options.clock, server: options.server,
    publicKey: loadLicensePublicKey(options.publicKeyFile),
    fingerprint: options.fingerprint !== undefined ? options.fingerprint : (readMachineFingerprint()?.fingerprint ?? null),
  });
}
