/** A small seeded PRNG (mulberry32): the same seed gives the same fleet, run after run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a text: stable 32-bit seeds from names (`deviceSeed(1, "SIM-0001")`). */
export function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The seed of one device in a fleet run with `--seed`: depends on the sn, not on its position. */
export function deviceSeed(fleetSeed: number, sn: string): number {
  return hashString(`${fleetSeed}:${sn}`);
}

/** Seeded draws from the distributions the emulator needs. */
export class Random {
  private readonly draw: () => number;
  private spare: number | undefined;

  constructor(readonly seed: number) {
    this.draw = seededRandom(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.draw();
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.draw();
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return Math.floor(this.uniform(min, max + 1));
  }

  chance(probability: number): boolean {
    return this.draw() < probability;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const u = 1 - this.draw();
    const v = this.draw();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Exponentially distributed with the given mean (waiting times of random events). */
  exponential(mean: number): number {
    return -Math.log(1 - this.draw()) * mean;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.draw() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  /** An independent stream derived from this one's seed and a label (leaks, faults, network). */
  fork(label: string): Random {
    return new Random(hashString(`${this.seed}/${label}`));
  }
}
