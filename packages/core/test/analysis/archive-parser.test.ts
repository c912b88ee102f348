import { describe, expect, it } from "vitest";
import { readingLine } from "../../src/archive/archive-csv.ts";
import { ArchiveFormatError, FLAG_BITS, createAlarmsParser, createReadingsParser, kindOfHeader, parseChunks, type ArchiveCsvParser } from "../../src/analysis/index.ts";

const HEADER = "sn,ts,seq,ppm,v_raw,temp,humi,bat,rssi,err,flags";
const TEXT = [
  HEADER,
  "A001,2025-12-13T00:00:05.000Z,42,12.5,1.234,25.1,45.2,3.92,-67,0,",
  "A001,2025-12-13T00:00:15.000Z,43,0,0.01,25.1,45.2,3.92,-67,0,negative",
  "B002,2025-12-13T00:00:07.000Z,7,20.9,2.1,,,,,24,anomaly|clock",
  "",
].join("\n");

function parseAll<Row>(parser: ArchiveCsvParser<Row>, chunks: string[]): Row[] {
  return [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()];
}

function errorOf(run: () => unknown): ArchiveFormatError {
  try {
    run();
  } catch (error) {
    if (error instanceof ArchiveFormatError) return error;
    throw error;
  }
  throw new Error("no error was thrown");
}

/** docs/archive.md, "sensor_data_YYYYMMDD.csv.gz". */
describe("the readings parser", () => {
  it("gives typed rows, empty fields as null and flags as bits", () => {
    const rows = parseAll(createReadingsParser("day.csv"), [TEXT]);
    expect(rows).toEqual([
      { sn: "A001", at: Date.parse("2025-12-13T00:00:05.000Z"), seq: 42, ppm: 12.5, vRaw: 1.234, temp: 25.1, humi: 45.2, bat: 3.92, rssi: -67, err: 0, flags: 0 },
      { sn: "A001", at: Date.parse("2025-12-13T00:00:15.000Z"), seq: 43, ppm: 0, vRaw: 0.01, temp: 25.1, humi: 45.2, bat: 3.92, rssi: -67, err: 0, flags: FLAG_BITS.negative },
      { sn: "B002", at: Date.parse("2025-12-13T00:00:07.000Z"), seq: 7, ppm: 20.9, vRaw: 2.1, temp: null, humi: null, bat: null, rssi: null, err: 24, flags: FLAG_BITS.anomaly | FLAG_BITS.clock },
    ]);
  });

  it("gives the same rows wherever the chunks are cut", () => {
    const whole = parseAll(createReadingsParser("day.csv"), [TEXT]);
    for (let cut = 1; cut < TEXT.length; cut++) {
      expect(parseAll(createReadingsParser("day.csv"), [TEXT.slice(0, cut), TEXT.slice(cut)])).toEqual(whole);
    }
    expect(parseAll(createReadingsParser("day.csv"), [...TEXT])).toEqual(whole);
  });

  it("reads what the archiver writes", () => {
    const archived = { sn: "H2S,01", ts: Date.parse("2025-12-13T08:00:00.000Z"), seq: 1, ppm: 7.5, v_raw: 0.52, temp: null, humi: 40, bat: 3.6, rssi: null, err: 8, flags: ["negative"] };
    const [row] = parseAll(createReadingsParser("day.csv"), [`${HEADER}\n${readingLine(archived)}\n`]);
    expect(row).toEqual({ sn: "H2S,01", at: archived.ts, seq: 1, ppm: 7.5, vRaw: 0.52, temp: null, humi: 40, bat: 3.6, rssi: null, err: 8, flags: FLAG_BITS.negative });
  });

  it("streams: one batch of rows per chunk", async () => {
    async function* chunks() {
      yield `${HEADER}\nA001,2025-12-13T00:00:05.000Z,1,1,1,,,,,0,\nA0`;
      yield "01,2025-12-13T00:00:15.000Z,2,2,2,,,,,0,";
    }
    const batches: number[][] = [];
    for await (const rows of parseChunks(createReadingsParser("day.csv"), chunks())) batches.push(rows.map((row) => row.seq));
    expect(batches).toEqual([[1], [2]]);
  });

  it("names the file and the line of malformed input", () => {
    expect(errorOf(() => parseAll(createReadingsParser("sensor_data_20251213.csv.gz"), ["sn,ts,value\n"])).message)
      .toBe('sensor_data_20251213.csv.gz, line 1: the header must be "sn,ts,seq,ppm,v_raw,temp,humi,bat,rssi,err,flags", found "sn,ts,value"');
    const badNumber = errorOf(() => parseAll(createReadingsParser("day.csv"), [`${HEADER}\nA001,2025-12-13T00:00:05.000Z,1,1,1,,,,,0,\nA001,2025-12-13T00:00:15.000Z,2,high,1,,,,,0,\n`]));
    expect({ line: badNumber.line, message: badNumber.message }).toEqual({ line: 3, message: 'day.csv, line 3: ppm is not a number: "high"' });
    expect(errorOf(() => parseAll(createReadingsParser("day.csv"), [`${HEADER}\nA001,2025-12-13T00:00:05.000Z,1,1\n`])).message).toBe("day.csv, line 2: expected 11 fields, found 4");
    expect(errorOf(() => parseAll(createReadingsParser("day.csv"), [`${HEADER}\nA001,2025-12-13 00:00:05,1,1,1,,,,,0,\n`])).message).toBe('day.csv, line 2: ts is not an ISO-8601 UTC time: "2025-12-13 00:00:05"');
    expect(errorOf(() => parseAll(createReadingsParser("day.csv"), [`${HEADER}\nA001,2025-12-13T00:00:05.000Z,1,,1,,,,,0,\n`])).message).toBe('day.csv, line 2: ppm is not a number: ""');
    expect(errorOf(() => parseAll(createReadingsParser("day.csv"), [`${HEADER}\n\nA001,2025-12-13T00:00:05.000Z,1,1,1,,,,,0,\n`])).message).toBe("day.csv, line 2: an empty line");
    expect(errorOf(() => parseAll(createReadingsParser("day.csv"), [`${HEADER}\n"A001,2025-12-13T00:00:05.000Z,1,1,1,,,,,0,\n`])).message).toBe("day.csv, line 2: a quoted field is not closed before the end of the file");
    expect(errorOf(() => parseAll(createReadingsParser("day.csv"), [""])).message).toBe("day.csv: the file is empty (not even a header)");
  });

  it("tells an alarms file from a readings file", () => {
    const header = "id,sn,type,level,state,value,peak,peak_at,reason,raised_at,received_at,acked_at,acked_by,ack_comment,cleared_at,closed_at,late,events";
    expect(kindOfHeader(header)).toBe("alarms");
    expect(kindOfHeader(`${HEADER}\r\n`)).toBe("sensor_data");
    expect(kindOfHeader("a,b")).toBeNull();
    expect(errorOf(() => parseAll(createReadingsParser("x.csv"), [`${header}\n`])).message).toBe("x.csv, line 1: this is an alarms file, not a sensor_data file");
  });
});

/** docs/archive.md, "alarms_YYYYMMDD.csv.gz": events are JSON, quoted as CSV requires. */
describe("the alarms parser", () => {
  const header = "id,sn,type,level,state,value,peak,peak_at,reason,raised_at,received_at,acked_at,acked_by,ack_comment,cleared_at,closed_at,late,events";
  const row = (id: number, comment: string) =>
    `${id},A001,HIGH,2,closed,30.5,61.2,2025-12-13T02:01:00.000Z,"value 30.5 > level 1 limit 25, rising",2025-12-13T02:00:00.000Z,2025-12-13T02:00:01.000Z,2025-12-13T02:05:00.000Z,li.wei,${comment},2025-12-13T02:04:00.000Z,2025-12-13T02:05:00.000Z,false,"[{""kind"":""raised"",""at"":""2025-12-13T02:00:00.000Z""}]"`;

  it("reads quoted fields with commas, doubled quotes and line breaks, cut anywhere", () => {
    const text = `${header}\n${row(1, '"checked, ""ok""\nvalve closed"')}\n${row(2, "")}\n`;
    const whole = parseAll(createAlarmsParser("alarms.csv"), [text]);
    expect(whole.map((alarm) => ({ id: alarm.id, level: alarm.level, reason: alarm.reason }))).toEqual([
      { id: 1, level: 2, reason: "value 30.5 > level 1 limit 25, rising" },
      { id: 2, level: 2, reason: "value 30.5 > level 1 limit 25, rising" },
    ]);
    expect(whole[0]).toMatchObject({ sn: "A001", type: "HIGH", peak: 61.2, raisedAt: Date.parse("2025-12-13T02:00:00.000Z"), clearedAt: Date.parse("2025-12-13T02:04:00.000Z"), late: false });
    for (let cut = 1; cut < text.length; cut += 7) expect(parseAll(createAlarmsParser("alarms.csv"), [text.slice(0, cut), text.slice(cut)])).toEqual(whole);
  });

  it("counts lines inside quoted fields when it names a bad line", () => {
    const text = `${header}\n${row(1, '"two\nlines"')}\n${row(2, "").replace("HIGH", "LOUD")}\n`;
    expect(errorOf(() => parseAll(createAlarmsParser("alarms.csv"), [text])).message).toBe('alarms.csv, line 4: type must be one of HIGH, LOW, FAULT, OFFLINE, LOW_BATTERY, found "LOUD"');
  });
});
