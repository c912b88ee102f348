import fp from "fastify-plugin";
import { FirmwareStore, PresenceStore, RolloutStore, type DevicePresence } from "@mcs/platform";
import type { Firmware, OtaParams } from "@mcs/protocol";
import { FirmwareUrls } from "../../lib/firmware-urls.ts";

declare module "fastify" {
  interface FastifyInstance {
    firmware: FirmwareStore;
    firmwareUrls: FirmwareUrls;
    rollouts: RolloutStore;
    /** Moves every active rollout one step now (after a change; the timer does it otherwise). */
    advanceRollouts(): Promise<void>;
  }
}

export interface FirmwareOptions {
  /** Where devices reach this server over HTTPS; undefined: no `ota` from uploaded images. */
  publicUrl: string | undefined;
  /** How often rollouts look at their devices' answers and start the next ones. */
  rolloutTickMs: number;
}

/**
 * Firmware images, their signed download addresses and rollouts. The rollout driver runs
 * here, in every backend (each step locks its rollout): it starts queued devices as
 * others finish and hands their `ota` commands to the command dispatch.
 */
export const firmwarePlugin = fp<FirmwareOptions>(
  async (app, options) => {
    const store = new FirmwareStore(app.db);
    const urls = new FirmwareUrls(options.publicUrl, () => store.signingKey());
    const rollouts = new RolloutStore(app.db);
    const presence = new PresenceStore(app.cache);
    const log = app.log.child({ component: "backend.rollouts" });
    app.decorate("firmware", store);
    app.decorate("firmwareUrls", urls);
    app.decorate("rollouts", rollouts);

    let running: Promise<void> | undefined;
    const advanceAll = async () => {
      const active = await rollouts.active();
      if (active.length === 0) return;
      const sign = await urls.signer();
      const otaParams = (firmware: Firmware, sn: string, untilMs: number): OtaParams => ({
        url: sign(firmware.version, sn, untilMs), version: firmware.version, size: firmware.size, sha256: firmware.sha256,
      });
      for (const id of active) {
        const online = new Set<string>();
        // Without the cache every device counts as offline: the order changes, not the rollout.
        const known = await presence.all().catch(() => new Map<string, DevicePresence>());
        for (const [sn, device] of known) if (device.state?.online) online.add(sn);
        const started = await rollouts.advance(id, { nowMs: app.clock.now(), otaParams, isOnline: (sn) => online.has(sn) });
        for (const sn of started) await app.commandDispatch.created(sn);
      }
    };
    // One pass at a time: a call during a pass waits for it, then makes its own.
    app.decorate("advanceRollouts", async () => {
      const previous = running ?? Promise.resolve();
      const next = previous.catch(() => {}).then(advanceAll);
      running = next;
      try {
        await next;
      } finally {
        if (running === next) running = undefined;
      }
    });
    const timer = setInterval(() => {
      app.advanceRollouts().catch((error: unknown) => log.warn({ err: error }, "rollout step failed; the next tick retries"));
    }, options.rolloutTickMs);
    timer.unref();
    app.addHook("onClose", async () => {
      clearInterval(timer);
      await running?.catch(() => {});
    });
  },
  { name: "firmware", dependencies: ["ports", "command-dispatch"] },
);
