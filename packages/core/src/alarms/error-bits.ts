/**
 * The detector's own error bits (`err`, docs/protocol.md) and what each means for judging its
 * gas value. Only a bit that makes the value meaningless suppresses the gas judgment; the
 * others raise their own fault beside a normally judged value, so a fault never hides a gas
 * alarm (GB 16808, EN 50271).
 */
export type ErrorBitEffect =
  /** The value means nothing: FAULT, no gas judgment (an active gas alarm stays as it was). */
  | "invalidates"
  /** More gas than the sensor measures: FAULT and the HIGH alarm at its highest level. */
  | "over-range"
  /** Below what the sensor measures: FAULT and the LOW alarm at its highest level where the device has LOW limits (O2); else the value means nothing. */
  | "under-range"
  /** LOW_BATTERY, the value judged normally. */
  | "low-battery"
  /** FAULT, the value judged normally. */
  | "fault";

export interface ErrorBit {
  bit: number;
  name: string;
  effect: ErrorBitEffect;
}

export const ERROR_BITS: readonly ErrorBit[] = Object.freeze([
  { bit: 0x01, name: "sensor fault", effect: "invalidates" },
  { bit: 0x02, name: "over range", effect: "over-range" },
  { bit: 0x04, name: "under range", effect: "under-range" },
  { bit: 0x08, name: "low battery", effect: "low-battery" },
  { bit: 0x10, name: "temperature out of spec", effect: "fault" },
]);

const KNOWN = ERROR_BITS.reduce((mask, bit) => mask | bit.bit, 0);

/** The bits set in `err`, each with its meaning; a bit nobody documented is a fault that does not invalidate the value. */
export function decodeErrorBits(err: number): ErrorBit[] {
  if (err === 0) return [];
  const bits = ERROR_BITS.filter((bit) => (err & bit.bit) !== 0);
  const unknown = err & ~KNOWN;
  if (unknown !== 0) bits.push({ bit: unknown, name: `unknown bits 0x${hex(unknown)}`, effect: "fault" });
  return bits;
}

export function hex(value: number): string {
  return (value >>> 0).toString(16).toUpperCase().padStart(4, "0");
}
