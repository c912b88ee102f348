import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { presetFor, randomSecret } from "@mcs/core";
import { DeviceStore, createLogger, hashMosquittoPassword, type Db, type DeviceRecord } from "@mcs/platform";
import { Fleet, type FleetDevice } from "@mcs/simulator";

const log = createLogger("demo-fleet");
const ACTOR = { name: "demo-fleet" };
/** The demo gases, in the order the fleet gives them out; no limits given, so each gets its gas preset (level 1 and level 2). */
const GASES = [
  { gas: "CH4", unit: "%LEL" },
  { gas: "H2S", unit: "ppm" },
  { gas: "CO", unit: "ppm" },
  { gas: "NH3", unit: "ppm" },
] as const;

/**
 * The embedded mode's demo fleet: `count` simulated detectors (DEMO-001…), registered on
 * first run with their own MQTT passwords (kept in `demo-fleet.json`, mode 0600, so they
 * survive restarts), publishing over the real TLS broker so a newcomer sees live data.
 */
export async function startDemoFleet(db: Db, options: { count: number; dataDir: string; url: string; ca: string; intervalMs?: number }): Promise<Fleet> {
  const file = join(options.dataDir, "demo-fleet.json");
  const known: FleetDevice[] = existsSync(file) ? JSON.parse(await readFile(file, "utf8")) : [];
  const devices = new DeviceStore(db);
  const fleet: FleetDevice[] = [];
  for (let i = 1; i <= options.count; i++) {
    const sn = `DEMO-${String(i).padStart(3, "0")}`;
    let entry = known.find((d) => d.sn === sn);
    const stored = await devices.get(sn);
    if (!entry || !stored) {
      entry = { sn, password: randomSecret() };
      const preset = GASES[(i - 1) % GASES.length]!;
      if (stored) await devices.setPasswordHash(sn, hashMosquittoPassword(entry.password), ACTOR);
      else await devices.create({ sn, name: `演示探测器 ${i}`, ...preset }, hashMosquittoPassword(entry.password), ACTOR);
    }
    if (stored) await upgradeToPreset(db, devices, stored);
    fleet.push(entry);
  }
  await writeFile(file, JSON.stringify([...fleet, ...known.filter((k) => !fleet.some((f) => f.sn === k.sn))], null, 2), { mode: 0o600 });
  await chmod(file, 0o600);
  const running = new Fleet(fleet, { url: options.url, ca: options.ca, intervalMs: options.intervalMs ?? 10_000 });
  await running.start();
  log.info({ devices: fleet.length }, "demo fleet running");
  return running;
}

/**
 * Demo devices made before the demo used the gas presets had level 1 only (高报 2 级 "—"):
 * such a device gets its preset's level 2, but only if the demo fleet made it and nobody
 * else has changed it since. A user's own device, or a demo device a user has set up, is
 * never touched.
 */
async function upgradeToPreset(db: Db, devices: DeviceStore, device: DeviceRecord): Promise<void> {
  if (device.high_limit_2 !== null || device.monitor_only) return;
  const preset = presetFor(device.gas, device.unit);
  if (!preset || preset.high2 === null || (device.high_limit !== null && device.high_limit >= preset.high2)) return;
  const audit = await db.query<{ actor: string; action: string }>(`SELECT actor, action FROM audit_log WHERE target = $1 AND action LIKE 'device.%'`, [device.sn]);
  const madeByDemo = audit.some((row) => row.action === "device.create" && row.actor === ACTOR.name);
  const changedByUser = audit.some((row) => row.actor !== ACTOR.name && row.action !== "device.create");
  if (!madeByDemo || changedByUser) return;
  try {
    await devices.update(device.sn, { high_limit_2: preset.high2 }, ACTOR);
    log.info({ sn: device.sn, high_limit_2: preset.high2 }, "demo device given its preset's level 2");
  } catch (error) {
    log.warn({ err: error, sn: device.sn }, "demo device kept its limits");
  }
}
