/** One CSV record and the line it starts on (1-based). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** A record the reader could not split (an unclosed quote, text after a closing quote). */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = "CsvSyntaxError";
  }
}

/**
 * Splits CSV (RFC 4180, `\n` or `\r\n` line ends) arriving in chunks of any size into
 * records. A line break inside quotes belongs to its field, so a record may span chunks
 * and lines. Lines without a quote (every readings row) take the fast path of `split`.
 */
export class CsvRecordReader {
  /** Text after the last complete record. */
  private pending = "";
  /** How much of `pending` was searched for quotes already, and whether that part ends inside quotes. */
  private scanned = 0;
  private insideQuotes = false;
  /** The line the pending record starts on. */
  private line = 1;

  push(chunk: string): CsvRecord[] {
    const text = this.pending + chunk;
    const records: CsvRecord[] = [];
    let start = 0;
    let scan = this.scanned;
    let inside = this.insideQuotes;
    for (;;) {
      const newline = text.indexOf("\n", scan);
      if (newline < 0) break;
      inside = quotesToggle(text, scan, newline, inside);
      scan = newline + 1;
      if (inside) continue; // the line break is part of a quoted field
      records.push(this.record(text, start, newline));
      start = scan;
    }
    this.pending = text.slice(start);
    this.insideQuotes = quotesToggle(text, scan, text.length, inside);
    this.scanned = this.pending.length;
    return records;
  }

  /** The last record when the text does not end with a line break; an unclosed quote is an error. */
  end(): CsvRecord[] {
    const rest = this.pending;
    this.pending = "";
    this.scanned = 0;
    if (this.insideQuotes) throw new CsvSyntaxError(this.line, "a quoted field is not closed before the end of the file");
    return rest === "" ? [] : [this.record(rest, 0, rest.length)];
  }

  private record(text: string, start: number, end: number): CsvRecord {
    const line = this.line;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end; // "\r\n"
    const raw = text.slice(start, stop);
    let fields: string[];
    if (raw.indexOf('"') < 0) {
      fields = raw.split(",");
      this.line += 1;
    } else {
      fields = splitQuoted(raw, line);
      this.line += 1 + countNewlines(raw);
    }
    return { line, fields };
  }
}

/** Whether the text up to `to` ends inside quotes, given the state at `from` (each `"` toggles; `""` toggles twice). */
function quotesToggle(text: string, from: number, to: number, inside: boolean): boolean {
  let at = text.indexOf('"', from);
  while (at >= 0 && at < to) {
    inside = !inside;
    at = text.indexOf('"', at + 1);
  }
  return inside;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return count;
}

/** The fields of one CSV record that holds quotes (`line` names it in an error). */
export function splitQuoted(raw: string, line: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (raw[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const quote = raw.indexOf('"', i);
        if (quote < 0) throw new CsvSyntaxError(line, "a quoted field is not closed");
        value += raw.slice(i, quote);
        if (raw[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      fields.push(value);
      if (i === raw.length) return fields;
      if (raw[i] !== ",") throw new CsvSyntaxError(line, `unexpected text after a quoted field at column ${i + 1}`);
      i++;
    } else {
      const comma = raw.indexOf(",", i);
      const end = comma < 0 ? raw.length : comma;
      const value = raw.slice(i, end);
      if (value.includes('"')) throw new CsvSyntaxError(line, `a quote inside an unquoted field at column ${i + 1}`);
      fields.push(value);
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}
