/** A device's spot on a drawing: per cent of its width (x, from the left) and height (y, from the top). */
export interface Spot {
  x: number;
  y: number;
}

/** Where a point of the screen falls on the drawing, in per cent (0.01 % steps), clamped to the drawing. */
export function percentOf(rect: { left: number; top: number; width: number; height: number }, clientX: number, clientY: number): Spot {
  const clamp = (value: number) => Math.min(100, Math.max(0, Math.round(value * 100) / 100));
  return { x: clamp(((clientX - rect.left) / rect.width) * 100), y: clamp(((clientY - rect.top) / rect.height) * 100) };
}

export function inside(rect: { left: number; top: number; right: number; bottom: number }, clientX: number, clientY: number): boolean {
  return clientX >= rect.left && clientX <= rect.right && clientY >= rect.top && clientY <= rect.bottom;
}

/**
 * The largest box of the drawing's aspect ratio that fits the area: the plan drawn whole,
 * never stretched.
 */
export function fitBox(areaWidth: number, areaHeight: number, aspect: number): { width: number; height: number } {
  if (areaWidth <= 0 || areaHeight <= 0 || !(aspect > 0)) return { width: 0, height: 0 };
  const width = Math.min(areaWidth, areaHeight * aspect);
  return { width: Math.floor(width), height: Math.floor(width / aspect) };
}

/** A placement map in a stable form, to tell whether anything changed since the last save. */
export function placementKey(spots: Record<string, Spot>): string {
  return JSON.stringify(Object.keys(spots).sort().map((sn) => [sn, spots[sn]!.x, spots[sn]!.y]));
}
