import { parseArgs } from "node:util";
import { GAS_NAMES, isGasName, type GasName } from "./gases.ts";

export const USAGE = `Usage: npm run sim -- [options]

Runs a fleet of emulated gas detectors against an MCS-IoT broker.

Devices and broker
  --devices N          how many detectors (default 10), named <prefix>0001…
  --prefix TEXT        serial-number prefix (default SIM-)
  --gases LIST         gases given in turn, of ${GAS_NAMES.join(",")} (default CH4,H2S,CO,NH3,O2)
  --interval S         report period in seconds (default 10)
  --url URL            broker (default mqtts://localhost:8883)
  --ca FILE            CA certificate the broker's certificate chains to
                       (default data/certs/ca.pem when it exists, as npm start makes it)
  --creds FILE         credentials CSV "sn,password" (default devices.csv)
  --seed N             seed of every signal and of the chaos (default 1)
  --ramp N             connections started per second (default 50)
  --flash-dir DIR      keep each device's flash (backlog, boot counter) in DIR/<sn>/
                       (default: in memory, lost when the simulator exits)

Registering devices
  --provision          register the devices missing from the CSV through the REST API
                       and append their MQTT passwords to it (mode 0600)
  --api URL            the API (default http://localhost:8080)
  --token TOKEN        a bearer token, or:
  --user NAME --password PW   log in with POST /api/auth/login

Chaos (events per device per hour)
  --offline-rate R     network outages (the modem loses coverage)
  --offline-mean S     mean outage length in seconds (default 120)
  --reboot-rate R      reboots
  --leak-rate R        gas leaks that cross the alarm presets
  --fault-rate R       sensor faults (stuck, over-range, sensor failure, zero drift)

Output
  --summary S          print a summary line every S seconds (default 5)
  --duration S         stop after S seconds (default: run until Ctrl-C)
  --verbose            log every device's state changes and command answers
  --help
`;

export interface CliOptions {
  devices: number;
  prefix: string;
  gases: GasName[];
  intervalS: number;
  url: string;
  ca: string | undefined;
  creds: string;
  seed: number;
  ramp: number;
  flashDir: string | undefined;
  provision: boolean;
  api: string;
  token: string | undefined;
  user: string | undefined;
  password: string | undefined;
  offlineRate: number;
  offlineMeanS: number;
  rebootRate: number;
  leakRate: number;
  faultRate: number;
  summaryS: number;
  durationS: number | undefined;
  verbose: boolean;
  help: boolean;
}

/** Parses the command line; throws an Error naming the bad option. */
export function parseCliArgs(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      devices: { type: "string" },
      prefix: { type: "string" },
      gases: { type: "string" },
      interval: { type: "string" },
      url: { type: "string" },
      ca: { type: "string" },
      creds: { type: "string" },
      seed: { type: "string" },
      ramp: { type: "string" },
      "flash-dir": { type: "string" },
      provision: { type: "boolean" },
      api: { type: "string" },
      token: { type: "string" },
      user: { type: "string" },
      password: { type: "string" },
      "offline-rate": { type: "string" },
      "offline-mean": { type: "string" },
      "reboot-rate": { type: "string" },
      "leak-rate": { type: "string" },
      "fault-rate": { type: "string" },
      summary: { type: "string" },
      duration: { type: "string" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const number = (name: keyof typeof values, fallback: number, check: (n: number) => boolean = (n) => n >= 0): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== "string" || !Number.isFinite(n) || !check(n)) throw new Error(`--${name}: ${JSON.stringify(raw)} is not a valid value`);
    return n;
  };
  const gases = (values.gases ?? "CH4,H2S,CO,NH3,O2").split(",").map((g) => g.trim());
  const unknown = gases.filter((g) => !isGasName(g));
  if (unknown.length > 0) throw new Error(`--gases: unknown ${unknown.join(", ")}; known: ${GAS_NAMES.join(", ")}`);
  const prefix = values.prefix ?? "SIM-";
  if (!/^[A-Za-z0-9_-]{0,27}$/.test(prefix) || /^mcs-/i.test(prefix)) throw new Error("--prefix: up to 27 of [A-Za-z0-9_-], not starting with mcs-");
  return {
    devices: number("devices", 10, (n) => Number.isInteger(n) && n >= 1 && n <= 99_999),
    prefix,
    gases: gases as GasName[],
    intervalS: number("interval", 10, (n) => n >= 0.1),
    url: values.url ?? "mqtts://localhost:8883",
    ca: values.ca,
    creds: values.creds ?? "devices.csv",
    seed: number("seed", 1, Number.isInteger),
    ramp: number("ramp", 50, (n) => n > 0),
    flashDir: values["flash-dir"],
    provision: values.provision ?? false,
    api: (values.api ?? "http://localhost:8080").replace(/\/+$/, ""),
    token: values.token,
    user: values.user,
    password: values.password,
    offlineRate: number("offline-rate", 0),
    offlineMeanS: number("offline-mean", 120, (n) => n > 0),
    rebootRate: number("reboot-rate", 0),
    leakRate: number("leak-rate", 0),
    faultRate: number("fault-rate", 0),
    summaryS: number("summary", 5, (n) => n > 0),
    durationS: values.duration === undefined ? undefined : number("duration", 0, (n) => n > 0),
    verbose: values.verbose ?? false,
    help: values.help ?? false,
  };
}

/** `SIM-0001`, `SIM-0002`, … (at least 4 digits). */
export function serialNumbers(prefix: string, count: number): string[] {
  const width = Math.max(4, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i + 1).padStart(width, "0")}`);
}
