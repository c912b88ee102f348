import { readdirSync, readFileSync } from "node:fs";

/** Linux /proc readers: memory and CPU time of the processes the bench runs. */

const TICKS_PER_SECOND = 100; // CLK_TCK on Linux (x86-64, arm64)

/** Peak (VmHWM) and current (VmRSS) resident memory in MB; undefined once the process is gone. */
export function memoryOf(pid: number): { peakMb: number; rssMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { peakMb: kb("VmHWM") / 1024, rssMb: kb("VmRSS") / 1024 };
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds the process has used so far (0 if gone). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the comm: state(3) ppid(4) … utime(14) stime(15), here 0-based from state.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

function allPids(): number[] {
  return readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number);
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Pids whose command line contains every one of `parts`. */
export function findPids(...parts: string[]): number[] {
  return allPids().filter((pid) => {
    const cmd = cmdlineOf(pid);
    return parts.every((part) => cmd.includes(part));
  });
}

/** The process and all its descendants (e.g. the postmaster and its backends). */
export function processTree(root: number): number[] {
  const pids = allPids();
  const parents = new Map(pids.map((pid) => [pid, parentOf(pid)]));
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, parent] of parents) if (parent === tree[i]) tree.push(pid);
  return tree;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0); // without guest (already in user)
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

/**
 * CPU use of named groups of processes over an interval, as a share of one core (100 % =
 * one core busy), plus what the rest of the machine used meanwhile (other programs on the
 * same 2 cores distort every figure, so the bench prints it).
 */
export class CpuMeter {
  private readonly start = new Map<string, number>();
  private startMachine = machineCpuSeconds();
  private startAt = performance.now();

  constructor(private readonly groups: Record<string, () => number[]>) {
    this.reset();
  }

  reset(): void {
    this.start.clear();
    for (const [name, pids] of Object.entries(this.groups)) this.start.set(name, pids().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0));
    this.startMachine = machineCpuSeconds();
    this.startAt = performance.now();
  }

  /** CPU seconds per group since the last reset, plus `other` (the rest of the machine) and `machine` (all of it). */
  cpuSeconds(): { used: Record<string, number>; wallSeconds: number } {
    const wallSeconds = (performance.now() - this.startAt) / 1000;
    const used: Record<string, number> = {};
    let inGroups = 0;
    for (const [name, pids] of Object.entries(this.groups)) {
      // A process that appeared since the reset (a new PostgreSQL backend) counts whole; one
      // that ended meanwhile is missed (the groups here are long-lived processes).
      const now = pids().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
      used[name] = Math.max(0, now - (this.start.get(name) ?? 0));
      inGroups += used[name];
    }
    const busy = machineCpuSeconds().busy - this.startMachine.busy;
    used.other = Math.max(0, busy - inGroups);
    used.machine = busy;
    return { used, wallSeconds };
  }

  /** Percent of one core per group since the last reset (100 % = one core busy), with `other` and `machine`. */
  read(): Record<string, number> {
    const { used, wallSeconds } = this.cpuSeconds();
    return Object.fromEntries(Object.entries(used).map(([name, seconds]) => [name, (100 * seconds) / wallSeconds]));
  }
}
