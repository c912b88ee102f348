import { createReadStream, existsSync } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { createGunzip } from "node:zlib";
import {
  ArchiveAnalysisBuilder, ArchiveFormatError, createAlarmsParser, createReadingsParser, kindOfHeader, parseManifest,
  type ArchiveAlarm, type ArchiveCsvParser, type ArchiveReading,
} from "@mcs/core/analysis";

/** Input the tool cannot read: the CLI prints it and exits with code 2. */
export class InputError extends Error {
  override name = "InputError";
}

export interface ReadOptions {
  /** Told about files skipped (audit logs) and manifests found beside a readings file. */
  note?: (message: string) => void;
}

/**
 * Reads archive files into an analysis, each streamed (gunzip → text chunks → rows), never
 * whole: `.csv.gz` readings or alarms (told apart by their header), `.manifest.json`, and
 * the manifest beside each readings file when it was not named.
 */
export async function readArchiveFiles(files: readonly string[], options: ReadOptions = {}): Promise<ArchiveAnalysisBuilder> {
  if (files.length === 0) throw new InputError("no archive files given");
  const named = new Set(files);
  const manifests = files.filter((file) => file.endsWith(".json"));
  for (const file of files) {
    const beside = file.replace(/\.csv\.gz$/, ".manifest.json");
    if (beside !== file && !named.has(beside) && existsSync(beside)) {
      manifests.push(beside);
      options.note?.(`using the manifest beside it: ${beside}`);
    }
  }
  const builder = new ArchiveAnalysisBuilder();
  for (const file of manifests) {
    await mustExist(file);
    // A manifest is small JSON (one entry per device), read whole; the readings are streamed.
    try {
      builder.addManifest(parseManifest(await readFile(file, "utf8"), basename(file)));
    } catch (error) {
      throw asInputError(error, file);
    }
  }
  for (const file of files.filter((name) => !name.endsWith(".json"))) await readCsvGz(file, builder, options);
  return builder;
}

async function readCsvGz(file: string, builder: ArchiveAnalysisBuilder, options: ReadOptions): Promise<void> {
  await mustExist(file);
  await mustBeGzip(file);
  const name = basename(file);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let parser: ArchiveCsvParser<ArchiveReading> | ArchiveCsvParser<ArchiveAlarm> | null = null;
  let head = "";
  let skipped = false;
  const alarms: ArchiveAlarm[] = [];
  const feed = (rows: (ArchiveReading | ArchiveAlarm)[], kind: "sensor_data" | "alarms") => {
    if (kind === "sensor_data") builder.addReadings(rows as ArchiveReading[]);
    else for (const row of rows as ArchiveAlarm[]) alarms.push(row);
  };
  const stream = createReadStream(file).pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decoder.decode(chunk, { stream: true });
      if (!parser) {
        // The header tells a readings file from an alarms file, whatever the file is called.
        head += text;
        const newline = head.indexOf("\n");
        if (newline < 0 && head.length < 4096) continue;
        const header = newline < 0 ? head : head.slice(0, newline);
        if (header.replace(/\r$/, "") === "id,at,actor,ip,action,target,before,after") {
          options.note?.(`skipped ${name}: an audit log, not readings or alarms`);
          skipped = true;
          stream.destroy();
          break;
        }
        const kind = kindOfHeader(header) ?? "sensor_data"; // an unknown header: the readings parser names what it expected
        parser = kind === "alarms" ? createAlarmsParser(name) : createReadingsParser(name);
        feed(parser.push(head), kind);
        head = "";
        continue;
      }
      feed(parser.push(text), parser.kind);
    }
    if (skipped) return;
    if (!parser) {
      parser = kindOfHeader(head) === "alarms" ? createAlarmsParser(name) : createReadingsParser(name);
      feed(parser.push(head), parser.kind);
    }
    feed(parser.end(), parser.kind);
  } catch (error) {
    stream.destroy();
    throw asInputError(error, file);
  }
  if (parser.kind === "alarms") builder.addAlarms(alarms);
}

async function mustExist(file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (!info) throw new InputError(`file not found: ${file}`);
  if (!info.isFile()) throw new InputError(`not a file: ${file}`);
}

/** gzip starts with 1f 8b: checked first, so a plain CSV is named for what it is rather than as a zlib error. */
async function mustBeGzip(file: string): Promise<void> {
  const handle = await open(file, "r");
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    if (bytesRead < 2 || magic[0] !== 0x1f || magic[1] !== 0x8b) throw new InputError(`${file} is not a gzip file (archive files are .csv.gz)`);
  } finally {
    await handle.close();
  }
}

function asInputError(error: unknown, file: string): InputError {
  if (error instanceof InputError) return error;
  if (error instanceof ArchiveFormatError) return new InputError(error.message);
  if (error instanceof TypeError && /encoded data|decode/i.test(error.message)) return new InputError(`${file} is not UTF-8 text inside its gzip`);
  const code = (error as { code?: string }).code;
  if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") return new InputError(`${file} is a damaged gzip file (${(error as Error).message})`);
  return new InputError(`${file}: ${(error as Error).message}`);
}
