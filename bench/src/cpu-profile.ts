import { readFileSync } from "node:fs";

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time by
 * component (zod, mqtt-packet, postgres.js, ioredis, node internals, GC, each worker file),
 * the hottest functions, and inclusive time of the project's own functions.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  /** Wall time the profile covers, ms. */
  wallMs: number;
  /** CPU (non-idle) time, ms. */
  busyMs: number;
  /** [component, ms, % of busy], largest first. */
  components: [string, number, number][];
  /** [function @ file:line, self ms, % of busy]. */
  functions: [string, number, number][];
  /** [project function, inclusive ms, % of busy]. */
  inclusive: [string, number, number][];
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf("/node_modules/");
  if (i >= 0) return url.slice(i + "/node_modules/".length);
  const m = /\/(worker|packages|bench|server|backend)\/(.*)$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url.replace(/^file:\/\//, "");
}

function component(frame: ProfileNode["callFrame"]): string {
  const { functionName: fn, url } = frame;
  if (fn === "(idle)") return "(idle)";
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(program)") return "(program: V8/native, unattributed)";
  if (url === "") return `native: ${fn || "(anonymous)"}`;
  const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const own = /\/(worker\/src|packages\/[^/]+\/src|bench\/src|server\/src|backend\/src)\/(.*)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url;
}

export function summarizeProfile(path: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const components = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    total += micros;
    const name = component(node.callFrame);
    if (name === "(idle)") {
      idle += micros;
      continue;
    }
    components.set(name, (components.get(name) ?? 0) + micros);
    const { functionName, url, lineNumber } = node.callFrame;
    // tsx-compiled files report every function on line 1: the name and file say enough there.
    const line = lineNumber > 0 ? `:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"} ${url ? `@ ${shortUrl(url)}${line}` : ""}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + micros);
    // Inclusive time of the project's own functions: each sample once per distinct function on its stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!/\/(worker|packages)\//.test(frame.url) || frame.url.includes("/node_modules/")) continue;
      const name = `${frame.functionName || "(anonymous)"} @ ${shortUrl(frame.url)}`;
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
    }
  }
  const busy = total - idle;
  const rank = (map: Map<string, number>): [string, number, number][] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => [name, micros / 1000, busy > 0 ? (100 * micros) / busy : 0]);
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: busy / 1000,
    components: rank(components),
    functions: rank(functions),
    inclusive: rank(inclusive),
  };
}

// `tsx bench/src/cpu-profile.ts file.cpuprofile` prints a summary of any profile.
if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: tsx bench/src/cpu-profile.ts <file.cpuprofile>");
  console.log(formatProfile(summarizeProfile(file, 25)));
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [`CPU profile: ${(summary.busyMs / 1000).toFixed(1)} s busy of ${(summary.wallMs / 1000).toFixed(1)} s (${((100 * summary.busyMs) / summary.wallMs).toFixed(0)} % of one core)`];
  const section = (title: string, rows: [string, number, number][]) => {
    lines.push(`  ${title}`);
    for (const [name, ms, pct] of rows) lines.push(`    ${pct.toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
  };
  section("self time by component:", summary.components);
  section("hottest functions (self):", summary.functions);
  section("project functions (inclusive):", summary.inclusive);
  return lines.join("\n");
}
