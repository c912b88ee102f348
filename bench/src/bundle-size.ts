import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/**
 * The gzipped JavaScript a browser fetches for the first load of one route of a frontend
 * build (`frontend/dist`, or the bench's own build in a temp folder), read from the build's own chunk graph (the build writes no
 * manifest, so this follows what the browser follows):
 *
 *  1. index.html: the entry `<script type="module" src>` and every `<link rel="modulepreload">`;
 *  2. the route's record in the router table (in the entry chunk): the chunk of its lazy
 *     `import("./X.js")` and the files Vite preloads with it (`__vite__mapDeps([i, …])`,
 *     indices into the `m.f=[…]` list at the top of the entry chunk); a route nested in
 *     `children` of a parent with a component also needs the parent's (found the same way);
 *  3. the closure of static imports (`import"./x.js"`, `from"./x.js"`) of all those.
 *
 * Dynamic imports the page makes later (e.g. ECharts when a trend opens) are not first load.
 * Each file is gzipped here at level 9 (what the build's precompressed `.gz` files use and
 * nginx's gzip_static serves), so files too small to have a `.gz` beside them count too.
 */
export const frontendRoot = fileURLToPath(new URL("../../frontend/", import.meta.url));
export const frontendDist = join(frontendRoot, "dist");

export interface RouteBundle {
  route: string;
  /** False when the router table has no such path (e.g. the page is not built yet). */
  found: boolean;
  jsFiles: string[];
  jsGzipBytes: number;
  jsRawBytes: number;
  cssGzipBytes: number;
}


/** `assets/x.js` for `./x.js` written inside a file of `assets/`. */
const inAssets = (relative: string) => `assets/${relative.replace(/^\.\//, "")}`;

function staticImports(dist: string, file: string): string[] {
  const text = readFileSync(join(dist, file), "utf8");
  // A quote right after `import`/`from` is a static import; `import(` is a dynamic one.
  return [...text.matchAll(/(?:\bfrom|\bimport)\s*["'`](\.\/[^"'`]+\.js)["'`]/g)].map((m) => inAssets(m[1]!));
}

function closure(dist: string, start: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const queue = [...start].filter((file) => file.endsWith(".js"));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || !existsSync(join(dist, file))) continue;
    seen.add(file);
    queue.push(...staticImports(dist, file));
  }
  return seen;
}

function entryFiles(dist: string): { entry: string[]; css: string[] } {
  const html = readFileSync(join(dist, "index.html"), "utf8");
  const scripts = [...html.matchAll(/<script[^>]*type="module"[^>]*src="\/?([^"]+)"/g)].map((m) => m[1]!);
  const preloads = [...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/?([^"]+)"/g)].map((m) => m[1]!);
  const css = [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="\/?([^"]+)"/g)].map((m) => m[1]!);
  return { entry: [...scripts, ...preloads], css };
}

/** What the route record starting at `at` lazily loads: its chunk and Vite's preload list. */
function routeLoads(text: string, at: number, deps: string[]): string[] {
  // The record runs to the next route's `path:`; its component comes before that.
  const next = text.indexOf("path:", at + 5);
  const record = text.slice(at, next < 0 ? at + 4000 : next);
  const files = [...record.matchAll(/import\(\s*["'`](\.\/[^"'`]+\.js)["'`]\s*\)/g)].map((m) => inAssets(m[1]!));
  for (const m of record.matchAll(/__vite__mapDeps\(\[([\d,\s]*)\]\)/g)) {
    for (const index of m[1]!.split(",").filter(Boolean)) files.push(deps[Number(index)]!);
  }
  return files.filter(Boolean);
}

/** First-load JS (gzip) of `route` (a path of the router table, e.g. "/screen", "/login") in the build in `dist`. */
export function routeBundle(route: string, dist = frontendDist): RouteBundle {
  const gz = (file: string) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  const raw = (file: string) => readFileSync(join(dist, file)).length;
  const { entry, css: entryCss } = entryFiles(dist);
  const start = new Set(entry);
  const cssFiles = new Set(entryCss);
  let found = false;
  for (const file of closure(dist, entry)) {
    const text = readFileSync(join(dist, file), "utf8");
    const list = /m\.f=\[([^\]]*)\]/.exec(text)?.[1];
    const deps = list ? [...list.matchAll(/["'`]([^"'`]+)["'`]/g)].map((m) => m[1]!) : [];
    // A top-level route is written `path:"/screen"`; a child of another route `path:"screen"`.
    const name = route.replace(/^\//, "");
    const pattern = new RegExp(`path:\\s*["'\`]/?${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["'\`]`, "g");
    for (const m of text.matchAll(pattern)) {
      found = true;
      for (const f of routeLoads(text, m.index!, deps)) (f.endsWith(".css") ? cssFiles : start).add(f);
      // A child route (directly inside a `children:[…]`): its parent's component loads too.
      const children = text.lastIndexOf("children:[", m.index);
      if (children >= 0 && depth(text, children + "children:".length, m.index!) === 2) {
        const parentPath = text.lastIndexOf("path:", children);
        if (parentPath >= 0) for (const f of routeLoads(text, parentPath, deps)) (f.endsWith(".css") ? cssFiles : start).add(f);
      }
    }
    if (found) break;
  }
  const js = [...closure(dist, start)].sort();
  return {
    route,
    found,
    jsFiles: js,
    jsGzipBytes: js.reduce((sum, file) => sum + gz(file), 0),
    jsRawBytes: js.reduce((sum, file) => sum + raw(file), 0),
    cssGzipBytes: [...cssFiles].filter((file) => existsSync(join(dist, file))).reduce((sum, file) => sum + gz(file), 0),
  };
}

/**
 * Brackets open between `from` and `to`: 2 when `to` is inside a record (`{`) directly in the
 * array opened at `from` (`[`). Minified code keeps strings with brackets rare enough here.
 */
function depth(text: string, from: number, to: number): number {
  let open = 0;
  for (let i = from; i < to; i++) {
    const c = text[i];
    if (c === "[" || c === "{" || c === "(") open++;
    else if (c === "]" || c === "}" || c === ")") open--;
  }
  return open;
}
