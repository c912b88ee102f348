/** One field of an audit row: its value before and after the change, and whether it changed. */
export interface FieldChange {
  field: string;
  before: string;
  after: string;
  /** Present on one side only (a record created or deleted). */
  kind: "changed" | "added" | "removed" | "same";
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A value as one line of text: strings as they are, the rest as JSON; null and absent as "—". */
export function display(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/**
 * Before → after as a list of fields, in the order they first appear. A side that is not an
 * object (a plain value) is shown as the field "value"; a side that is null is absent.
 */
export function diffOf(before: unknown, after: unknown): FieldChange[] {
  const asRecord = (side: unknown): Record<string, unknown> => (side === null || side === undefined ? {} : isRecord(side) ? side : { value: side });
  const b = asRecord(before);
  const a = asRecord(after);
  const fields = [...new Set([...Object.keys(b), ...Object.keys(a)])];
  return fields.map((field) => {
    const inBefore = field in b && before !== null && before !== undefined;
    const inAfter = field in a && after !== null && after !== undefined;
    const same = JSON.stringify(b[field]) === JSON.stringify(a[field]);
    const kind = !inBefore ? "added" : !inAfter ? "removed" : same ? "same" : "changed";
    return { field, before: display(b[field]), after: display(a[field]), kind };
  });
}
