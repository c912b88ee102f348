/** How far back a reading may be dated: an offline backlog, or a device whose clock is late. */
export const MAX_READING_AGE_S = 30 * 24 * 3600;
/** How far ahead: a device clock running fast by more than this is wrong. */
export const MAX_READING_LEAD_S = 3600;

/** Null when `ts` (Unix seconds) is plausible at `nowMs`; otherwise why not. */
export function implausibleTimestamp(ts: number, nowMs: number): string | null {
  const now = nowMs / 1000;
  if (ts < now - MAX_READING_AGE_S) return `ts ${ts} is more than 30 days old`;
  if (ts > now + MAX_READING_LEAD_S) return `ts ${ts} is more than 1 hour in the future`;
  return null;
}
