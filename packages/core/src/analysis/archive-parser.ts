import type { AlarmLevel, AlarmType } from "../alarms/types.ts";
import { ALARMS_COLUMNS, ArchiveFormatError, FLAG_BITS, READINGS_COLUMNS, type ArchiveAlarm, type ArchiveReading } from "./archive-format.ts";
import { CsvRecordReader, CsvSyntaxError, type CsvRecord } from "./csv-records.ts";

export type ArchiveCsvKind = "sensor_data" | "alarms";

/** Turns text chunks of one archive CSV file into typed rows; throws ArchiveFormatError naming the line. */
export interface ArchiveCsvParser<Row> {
  readonly kind: ArchiveCsvKind;
  push(chunk: string): Row[];
  end(): Row[];
  /** Rows parsed so far (the header not counted). */
  readonly rows: number;
}

type RowOf = (fields: string[], problem: (text: string) => never) => unknown;

const COLUMNS: Record<ArchiveCsvKind, readonly string[]> = { sensor_data: READINGS_COLUMNS, alarms: ALARMS_COLUMNS };

/** `source` names the file in error messages. */
export function createReadingsParser(source: string): ArchiveCsvParser<ArchiveReading> {
  return createParser("sensor_data", source, readingOf) as ArchiveCsvParser<ArchiveReading>;
}

export function createAlarmsParser(source: string): ArchiveCsvParser<ArchiveAlarm> {
  return createParser("alarms", source, alarmOf) as ArchiveCsvParser<ArchiveAlarm>;
}

/** Reads an async stream of text chunks (a file, a download) as rows, one batch per chunk. */
export async function* parseChunks<Row>(parser: ArchiveCsvParser<Row>, chunks: AsyncIterable<string>): AsyncGenerator<Row[]> {
  for await (const chunk of chunks) {
    const rows = parser.push(chunk);
    if (rows.length > 0) yield rows;
  }
  const rest = parser.end();
  if (rest.length > 0) yield rest;
}

/** Which archive file a header line starts, or null for none of ours. */
export function kindOfHeader(headerLine: string): ArchiveCsvKind | null {
  const header = headerLine.replace(/^\uFEFF/, "").replace(/\r?\n?$/, "");
  for (const kind of ["sensor_data", "alarms"] as const) if (header === COLUMNS[kind].join(",")) return kind;
  return null;
}

function createParser(kind: ArchiveCsvKind, source: string, rowOf: RowOf): ArchiveCsvParser<unknown> {
  const reader = new CsvRecordReader();
  const expected = COLUMNS[kind];
  let headerSeen = false;
  let rows = 0;
  // One closure for every row (not one per row): the line it names is the current record's.
  let line = 0;
  const problem = (text: string): never => {
    throw new ArchiveFormatError(source, line, text);
  };
  const convert = (records: CsvRecord[]): unknown[] => {
    const out: unknown[] = [];
    for (const record of records) {
      line = record.line;
      if (!headerSeen) {
        headerSeen = true;
        const header = record.fields.join(",").replace(/^\uFEFF/, "");
        if (header !== expected.join(",")) {
          const other = kindOfHeader(header);
          problem(other
            ? `this is an ${other} file, not a ${kind} file`
            : `the header must be "${expected.join(",")}", found "${header.slice(0, 120)}"`);
        }
        continue;
      }
      if (record.fields.length !== expected.length) {
        problem(record.fields.length === 1 && record.fields[0] === "" ? "an empty line" : `expected ${expected.length} fields, found ${record.fields.length}`);
      }
      out.push(rowOf(record.fields, problem));
      rows++;
    }
    return out;
  };
  const guarded = (read: () => CsvRecord[]): unknown[] => {
    try {
      return convert(read());
    } catch (error) {
      if (error instanceof CsvSyntaxError) throw new ArchiveFormatError(source, error.line, error.message);
      throw error;
    }
  };
  return {
    kind,
    push: (chunk) => guarded(() => reader.push(chunk)),
    end: () => {
      const rest = guarded(() => reader.end());
      if (!headerSeen) throw new ArchiveFormatError(source, null, "the file is empty (not even a header)");
      return rest;
    },
    get rows() {
      return rows;
    },
  };
}

function readingOf(f: string[], problem: (text: string) => never): ArchiveReading {
  const [sn, ts, seq, ppm, vRaw, temp, humi, bat, rssi, err, flags] = f as [string, string, string, string, string, string, string, string, string, string, string];
  if (sn === "") problem("sn is empty");
  return {
    sn,
    at: time(ts, "ts", problem),
    seq: integer(seq, "seq", problem),
    ppm: number(ppm, "ppm", problem),
    vRaw: number(vRaw, "v_raw", problem),
    temp: optionalNumber(temp, "temp", problem),
    humi: optionalNumber(humi, "humi", problem),
    bat: optionalNumber(bat, "bat", problem),
    rssi: optionalNumber(rssi, "rssi", problem),
    err: integer(err, "err", problem),
    flags: flagBits(flags),
  };
}

const ALARM_TYPES: readonly AlarmType[] = ["HIGH", "LOW", "FAULT", "OFFLINE", "LOW_BATTERY"];

function alarmOf(f: string[], problem: (text: string) => never): ArchiveAlarm {
  const [id, sn, type, level, state, value, peak, , reason, raisedAt, , ackedAt, , , clearedAt, closedAt, late] = f;
  if (!ALARM_TYPES.includes(type as AlarmType)) problem(`type must be one of ${ALARM_TYPES.join(", ")}, found "${type}"`);
  if (level !== "1" && level !== "2") problem(`level must be 1 or 2, found "${level}"`);
  if (!sn) problem("sn is empty");
  return {
    id: integer(id ?? "", "id", problem),
    sn,
    type: type as AlarmType,
    level: Number(level) as AlarmLevel,
    state: state ?? "",
    value: optionalNumber(value ?? "", "value", problem),
    peak: optionalNumber(peak ?? "", "peak", problem),
    raisedAt: time(raisedAt ?? "", "raised_at", problem),
    clearedAt: optionalTime(clearedAt ?? "", "cleared_at", problem),
    closedAt: optionalTime(closedAt ?? "", "closed_at", problem),
    ackedAt: optionalTime(ackedAt ?? "", "acked_at", problem),
    reason: reason ?? "",
    late: late === "true",
  };
}

function number(text: string, name: string, problem: (text: string) => never): number {
  // Number("") is 0: an empty required field must not read as a zero reading.
  const value = text === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) problem(`${name} is not a number: "${text.slice(0, 40)}"`);
  return value;
}

function optionalNumber(text: string, name: string, problem: (text: string) => never): number | null {
  return text === "" ? null : number(text, name, problem);
}

function integer(text: string, name: string, problem: (text: string) => never): number {
  const value = number(text, name, problem);
  if (!Number.isInteger(value) || value < 0) problem(`${name} is not a whole number ≥ 0: "${text.slice(0, 40)}"`);
  return value;
}

function time(text: string, name: string, problem: (text: string) => never): number {
  // ISO-8601 UTC as the archiver writes it; other forms Date.parse would read in local time.
  const at = text.endsWith("Z") ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) problem(`${name} is not an ISO-8601 UTC time: "${text.slice(0, 40)}"`);
  return at;
}

function optionalTime(text: string, name: string, problem: (text: string) => never): number | null {
  return text === "" ? null : time(text, name, problem);
}

function flagBits(text: string): number {
  if (text === "") return 0;
  let bits = 0;
  for (const name of text.split("|")) bits |= FLAG_BITS[name as keyof typeof FLAG_BITS] ?? 0;
  return bits;
}
