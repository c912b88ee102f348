/**
 * The `err` field of a reading: a bit mask, 0 when the detector sees nothing wrong.
 * A reading with any bit set is a fault reading (shown yellow), never a gas alarm.
 */
export const ERR = {
  /** The sensing element is open or shorted: `v_raw` means nothing (reported as 0). */
  SENSOR_FAULT: 0x0001,
  /** Above full scale: `v_raw` is pinned at the sensor's limit (110 % of range). */
  OVER_RANGE: 0x0002,
  /** Below zero by more than the zero tolerance (5 % of range): a drifting zero. */
  UNDER_RANGE: 0x0004,
  /** The backup battery is below 3.45 V. */
  LOW_BATTERY: 0x0008,
  /** Ambient temperature outside the sensor's rated −20…55 °C. */
  TEMPERATURE: 0x0010,
} as const;

export type ErrName = keyof typeof ERR;

/** `3` → `["SENSOR_FAULT", "OVER_RANGE"]`. */
export function errNames(err: number): ErrName[] {
  return (Object.keys(ERR) as ErrName[]).filter((name) => (err & ERR[name]) !== 0);
}
