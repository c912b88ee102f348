import { ArchiveStore, loadConfig, openArchiveStore, openPorts, restoreDay, SettingsStore, systemClock, TelemetryDays } from "@mcs/platform";
import { ArchiveDaySchema } from "@mcs/protocol";
import { parseArchiveKey } from "@mcs/core";
import { Archiver } from "./archiver.ts";

const USAGE = `usage: npm run archive -- run [--before YYYY-MM-DD]   archive every whole day older than the retention (or before the day)
       npm run archive -- list                         the runs, and what the archive holds
       npm run archive -- restore YYYY-MM-DD           load an archived day back into the database
The database is the one DATABASE_URL names, else the embedded one in MCS_DATA_DIR (stop \`npm start\` first: one process at a time).`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function dayArgument(value: string | undefined, what: string): string {
  const parsed = ArchiveDaySchema.safeParse(value);
  if (!parsed.success) fail(`${what}: ${value === undefined ? "missing" : JSON.stringify(value)}: ${parsed.error.issues[0]?.message}\n\n${USAGE}`);
  return parsed.data;
}

const [command, ...rest] = process.argv.slice(2);
if (!command || !["run", "list", "restore"].includes(command)) fail(USAGE);
const config = loadConfig();
const ports = await openPorts(config);
const settings = new SettingsStore(ports.db);
const runs = new ArchiveStore(ports.db);
let code = 0;
try {
  if (command === "run") {
    const beforeAt = rest.indexOf("--before");
    const before = beforeAt >= 0 ? dayArgument(rest[beforeAt + 1], "--before") : null;
    const by = process.env.USER ?? "cli";
    const id = (await runs.queue({ trigger: "cli", by, before }, systemClock.now()))!;
    const archiver = new Archiver({ db: ports.db, clock: systemClock, dataDir: config.dataDir, defaultHotDays: config.retentionDays });
    console.log(`archive run ${id} queued`);
    // This process runs it, unless a worker took it first; either way, wait for its end.
    for (;;) {
      await archiver.runNext();
      const run = await runs.run(id);
      if (run && (run.state === "ok" || run.state === "failed")) {
        console.log(`${run.state}: ${run.days.length} day(s) [${run.days.join(", ")}], ${run.rows} rows, ${run.bytes} bytes${run.error ? `\nerror: ${run.error}` : ""}`);
        code = run.state === "ok" ? 0 : 1;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } else if (command === "list") {
    console.log("runs (newest first):");
    for (const run of await runs.runs(20)) {
      console.log(`  #${run.id} ${run.state.padEnd(7)} ${run.trigger}/${run.requested_by} ${run.started_at ?? "-"} days=${run.days.length}/${run.days_total} rows=${run.rows} bytes=${run.bytes}${run.error ? ` error: ${run.error}` : ""}`);
    }
    const store = await openArchiveStore(settings, config.dataDir);
    try {
      console.log(`objects in ${store.target}:`);
      for (const object of await store.list("archive/")) if (parseArchiveKey(object.key)) console.log(`  ${object.key}  ${object.bytes} bytes`);
    } finally {
      await store.close();
    }
  } else {
    const day = dayArgument(rest[0], "restore");
    const store = await openArchiveStore(settings, config.dataDir);
    try {
      const result = await restoreDay(store, new TelemetryDays(ports.db), day);
      await runs.recordRestore(day, process.env.USER ?? "cli", null, result, systemClock.now());
      console.log(`restored ${day}: ${result.rows} readings in the archive, ${result.inserted} stored again (the others were there already)`);
    } finally {
      await store.close();
    }
  }
} catch (error) {
  console.error(`archive ${command} failed: ${(error as Error).message}`);
  code = 1;
} finally {
  await ports.close();
}
process.exit(code);
