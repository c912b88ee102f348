import { parseArgs } from "node:util";
import { generateArchive } from "./generate-archive.ts";
import { InputError } from "./read-archive.ts";
import { writeReport } from "./report.ts";
import { REPORT_LANGS, type ReportLang } from "./report-i18n.ts";

const USAGE = `usage:
  npm run analysis -- report FILE… --out report.html [--lang zh-CN|en]
      FILE: sensor_data_YYYYMMDD.csv.gz (its .manifest.json beside it is read too),
            sensor_data_YYYYMMDD.manifest.json, alarms_YYYYMMDD.csv.gz
  npm run analysis -- generate --devices 100 --out DIR [--days 1] [--seed 13] [--start-day 2025-12-13] [--no-alarms]`;

/** Exit codes: 0 done, 2 bad input or usage (a file missing, not gzip, a wrong header), 1 anything unexpected. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "report") return await report(rest);
    if (command === "generate") return await generate(rest);
    throw new InputError(command === undefined ? "no command given" : `unknown command "${command}"`);
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`error: ${error.message}\n${command === "report" || command === "generate" ? "" : `${USAGE}\n`}`);
      return 2;
    }
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

async function report(args: string[]): Promise<number> {
  const { values, positionals } = parsed(() => parseArgs({ args, allowPositionals: true, options: { out: { type: "string" }, lang: { type: "string" } } }));
  if (typeof values.out !== "string") throw new InputError("--out report.html is required");
  const lang = (values.lang ?? "zh-CN") as ReportLang;
  if (!REPORT_LANGS.includes(lang)) throw new InputError(`--lang must be one of ${REPORT_LANGS.join(", ")}, found "${String(values.lang)}"`);
  const started = Date.now();
  const result = await writeReport({ files: positionals, out: values.out, lang, note: (message) => process.stderr.write(`${message}\n`) });
  process.stdout.write(`${values.out}: ${result.devices} devices, ${result.readings} readings, ${(result.bytes / 1e6).toFixed(1)} MB, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

async function generate(args: string[]): Promise<number> {
  const { values } = parsed(() => parseArgs({
    args,
    options: {
      devices: { type: "string" }, out: { type: "string" }, days: { type: "string" }, seed: { type: "string" },
      "start-day": { type: "string" }, "no-alarms": { type: "boolean" }, "gzip-level": { type: "string" },
    },
  }));
  if (typeof values.out !== "string") throw new InputError("--out DIR is required");
  const started = Date.now();
  const archive = await generateArchive({
    devices: count(values.devices, "--devices", 100),
    days: count(values.days, "--days", 1),
    seed: count(values.seed, "--seed", 13),
    gzipLevel: count(values["gzip-level"], "--gzip-level", 6),
    startDay: typeof values["start-day"] === "string" ? values["start-day"] : undefined,
    alarms: values["no-alarms"] !== true,
    outDir: values.out,
  });
  for (const day of archive.days) process.stdout.write(`${day.readings}: ${day.rows} readings, ${(day.bytes / 1e6).toFixed(1)} MB; ${day.alarms ? `${day.alarms}: ${day.alarmCount} alarms` : "no alarms file"}\n`);
  process.stdout.write(`in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

/** An unknown option is bad usage (exit 2), not a crash. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}

function count(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`${name} must be a whole number, found "${String(value)}"`);
  return n;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main(process.argv.slice(2));
