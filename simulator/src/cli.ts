import { existsSync, readFileSync } from "node:fs";
import { parseCliArgs, serialNumbers, USAGE, type CliOptions } from "./cli-args.ts";
import { appendCreds, readCreds } from "./creds.ts";
import { Fleet, formatSummary, type FleetDevice, type FleetSummary } from "./fleet.ts";
import { login, registerDevice } from "./provision.ts";

// `npm run sim -- --devices 500 --interval 10 --url mqtts://… --ca … --creds devices.csv --seed 1`

async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }

  const sns = serialNumbers(options.prefix, options.devices);
  const devices: FleetDevice[] = sns.map((sn, i) => ({ sn, password: "", gas: options.gases[i % options.gases.length]! }));
  const creds = readCreds(options.creds);
  if (options.provision) await provision(options, devices, creds);
  const missing = devices.filter((d) => !creds.has(d.sn));
  if (missing.length > 0) {
    console.error(`${options.creds} has no password for ${missing.length} of the ${devices.length} devices (first: ${missing[0]!.sn}); run with --provision to register them.`);
    return 2;
  }
  for (const device of devices) device.password = creds.get(device.sn)!;

  const caPath = options.ca ?? (existsSync("data/certs/ca.pem") ? "data/certs/ca.pem" : undefined);
  if (options.url.startsWith("mqtts:") && !caPath) console.error("warning: no --ca given; the broker's certificate must then chain to a public CA");
  const fleet = new Fleet(devices, {
    url: options.url,
    ca: caPath ? readFileSync(caPath) : undefined,
    intervalMs: options.intervalS * 1000,
    seed: options.seed,
    connectPerSecond: options.ramp,
    ...(options.flashDir ? { flashDir: options.flashDir } : {}),
    chaos: { offlineRate: options.offlineRate, offlineMeanS: options.offlineMeanS, rebootRate: options.rebootRate, leakRate: options.leakRate, faultRate: options.faultRate },
  });
  if (options.verbose) {
    for (const d of fleet.detectors) {
      d.on("state", (t) => console.error(`${d.sn} ${t.from} → ${t.to}: ${t.reason}`));
      d.on("log", (entry) => console.error(`${d.sn} ${entry.level}: ${entry.msg}`));
    }
  }

  console.log(`simulating ${devices.length} detectors → ${options.url} every ${options.intervalS} s, seed ${options.seed}, ${options.ramp} connections/s`);
  const startedAt = Date.now();
  let previous: { summary: FleetSummary; at: number } | undefined;
  const printSummary = () => {
    const now = Date.now();
    const summary = fleet.summary();
    console.log(formatSummary(summary, previous?.summary, now - (previous?.at ?? startedAt)));
    previous = { summary, at: now };
  };
  const ticker = setInterval(printSummary, options.summaryS * 1000);

  let stopping: Promise<void> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      clearInterval(ticker);
      console.log(`stopping (${why})`);
      await fleet.stop();
      printSummary();
    })();
    return stopping;
  };
  const done = new Promise<void>((resolve) => {
    process.once("SIGINT", () => void stop("SIGINT").then(resolve));
    process.once("SIGTERM", () => void stop("SIGTERM").then(resolve));
    if (options.durationS !== undefined) setTimeout(() => void stop(`--duration ${options.durationS} s`).then(resolve), options.durationS * 1000);
  });
  await fleet.start();
  if (!stopping) console.log(`all ${devices.length} detectors started in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  await done;
  return 0;
}

/** Registers the devices the CSV does not know yet, a few at a time, appending each password as it comes. */
async function provision(options: CliOptions, devices: FleetDevice[], creds: Map<string, string>): Promise<void> {
  let token = options.token;
  if (!token) {
    if (!options.user || !options.password) throw new Error("--provision needs --token, or --user and --password");
    token = await login(options.api, options.user, options.password);
  }
  const todo = devices.filter((d) => !creds.has(d.sn));
  if (todo.length === 0) return;
  console.log(`registering ${todo.length} devices at ${options.api}`);
  let created = 0;
  let renewed = 0;
  const queue = [...todo];
  await Promise.all(
    Array.from({ length: Math.min(4, queue.length) }, async () => {
      for (let device = queue.shift(); device; device = queue.shift()) {
        const result = await registerDevice(options.api, token, device.sn, device.gas!);
        creds.set(device.sn, result.password);
        appendCreds(options.creds, device.sn, result.password);
        if (result.created) created++;
        else renewed++;
      }
    }),
  );
  console.log(`registered ${created} new devices${renewed ? `, renewed the password of ${renewed} existing ones` : ""}; passwords in ${options.creds}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
