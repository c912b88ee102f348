/**
 * Quality flags of a stored reading. Stored as a bit mask (2 bytes a row instead of an
 * array), shown by the API as a list of names.
 */
export const READING_FLAGS = {
  /** The calibrated value was above 50 000: stored, but a fault, not a gas alarm. */
  anomaly: 1,
  /** The calibrated value was below 0 and stored as 0 (a zero drifting negative hides leaks). */
  negative: 2,
  /** The detector's own time was implausible (a clock reset to 1970, a modem never synced): stored at the receive time, its own kept in `device_ts`. */
  clock: 4,
} as const;
export type ReadingFlag = keyof typeof READING_FLAGS;

export function flagsToMask(flags: readonly ReadingFlag[]): number {
  let mask = 0;
  for (const flag of flags) mask |= READING_FLAGS[flag];
  return mask;
}

export function maskToFlags(mask: number): ReadingFlag[] {
  return (Object.keys(READING_FLAGS) as ReadingFlag[]).filter((flag) => (mask & READING_FLAGS[flag]) !== 0);
}
