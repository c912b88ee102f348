import { splitQuoted } from "../analysis/csv-records.ts";

/**
 * The archive's CSV (docs/archive.md): RFC 4180, `\n` line ends, empty for null. Pure
 * formatting and parsing; streaming and gzip are the caller's.
 */

export const SENSOR_DATA_HEADER = "sn,ts,seq,ppm,v_raw,temp,humi,bat,rssi,err,flags";
export const ALARMS_HEADER = "id,sn,type,level,state,value,peak,peak_at,reason,raised_at,received_at,acked_at,acked_by,ack_comment,cleared_at,closed_at,late,events";
export const AUDIT_HEADER = "id,at,actor,ip,action,target,before,after";

/** One stored reading as the archive holds it. */
export interface ArchivedReading {
  sn: string;
  /** Unix milliseconds. */
  ts: number;
  seq: number;
  ppm: number;
  v_raw: number;
  temp: number | null;
  humi: number | null;
  bat: number | null;
  rssi: number | null;
  err: number;
  flags: string[];
}

type Cell = string | number | boolean | null | undefined;

/** One CSV field: quoted when it holds a comma, a quote or a line break. */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly Cell[]): string {
  return values.map(csvField).join(",");
}

export function readingLine(r: ArchivedReading): string {
  return csvLine([r.sn, new Date(r.ts).toISOString(), r.seq, r.ppm, r.v_raw, r.temp, r.humi, r.bat, r.rssi, r.err, r.flags.join("|")]);
}

/** The fields of one CSV line (a line without line breaks inside quotes, as the archive writes readings). */
export function splitCsvLine(line: string): string[] {
  return line.includes('"') ? splitQuoted(line, 0) : line.split(",");
}

function number(text: string, name: string): number {
  const value = Number(text);
  if (text === "" || !Number.isFinite(value)) throw new Error(`${name} is not a number: ${JSON.stringify(text)}`);
  return value;
}

function optionalNumber(text: string, name: string): number | null {
  return text === "" ? null : number(text, name);
}

/** A readings line back into a reading; throws with what is wrong. */
export function parseReadingLine(line: string): ArchivedReading {
  const f = splitCsvLine(line);
  if (f.length !== 11) throw new Error(`expected 11 fields, found ${f.length}`);
  const ts = Date.parse(f[1]!);
  if (!f[0] || Number.isNaN(ts)) throw new Error(!f[0] ? "sn is empty" : `ts is not a time: ${JSON.stringify(f[1])}`);
  return {
    sn: f[0],
    ts,
    seq: number(f[2]!, "seq"),
    ppm: number(f[3]!, "ppm"),
    v_raw: number(f[4]!, "v_raw"),
    temp: optionalNumber(f[5]!, "temp"),
    humi: optionalNumber(f[6]!, "humi"),
    bat: optionalNumber(f[7]!, "bat"),
    rssi: optionalNumber(f[8]!, "rssi"),
    err: number(f[9]!, "err"),
    flags: f[10] === "" ? [] : f[10]!.split("|"),
  };
}

/** The archive's order: sn in byte order, then ts, then seq (negative: a before b). */
export function compareReadingKeys(a: { sn: string; ts: number; seq: number }, b: { sn: string; ts: number; seq: number }): number {
  if (a.sn !== b.sn) return a.sn < b.sn ? -1 : 1;
  return a.ts - b.ts || a.seq - b.seq;
}
