// The simulator's seeded generator (mulberry32): a generated archive is the same on every run.
export { seededRandom } from "@mcs/simulator";

/** A standard normal sample (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A seed of its own for each (seed, parts…), so a device's data does not depend on how many devices come before. */
export function mixSeed(seed: number, ...parts: number[]): number {
  let h = seed >>> 0 ^ 0x9e3779b9;
  for (const part of parts) h = Math.imul(h ^ (part >>> 0), 0x85ebca6b) ^ (h >>> 13);
  return h >>> 0;
}
