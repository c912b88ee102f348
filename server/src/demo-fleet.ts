import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomSecret } from "@mcs/core";
import { DeviceStore, createLogger, hashMosquittoPassword, type Db } from "@mcs/platform";
import { Fleet, type FleetDevice } from "@mcs/simulator";

const log = createLogger("demo-fleet");
const GASES = [
  { gas: "CH4", unit: "%LEL", high_limit: 25, low_limit: null },
  { gas: "H2S", unit: "ppm", high_limit: 7, low_limit: null },
  { gas: "CO", unit: "ppm", high_limit: 17, low_limit: null },
  { gas: "NH3", unit: "ppm", high_limit: 28, low_limit: null },
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
      if (stored) await devices.setPasswordHash(sn, hashMosquittoPassword(entry.password), { name: "demo-fleet" });
      else await devices.create({ sn, name: `演示探测器 ${i}`, ...preset }, hashMosquittoPassword(entry.password), { name: "demo-fleet" });
    }
    fleet.push(entry);
  }
  await writeFile(file, JSON.stringify([...fleet, ...known.filter((k) => !fleet.some((f) => f.sn === k.sn))], null, 2), { mode: 0o600 });
  await chmod(file, 0o600);
  const running = new Fleet(fleet, { url: options.url, ca: options.ca, intervalMs: options.intervalMs ?? 10_000 });
  await running.start();
  log.info({ devices: fleet.length }, "demo fleet running");
  return running;
}
