// Production JavaScript: one ES module per program in dist/ (`npm run bundle`), so the images
// run plain `node dist/backend.mjs`, without tsx compiling TypeScript at every start.
// The project's own packages (@mcs/*, TypeScript sources) are bundled in; every other package
// stays an import from node_modules, installed with --omit=dev in the image: libraries that
// load files or workers of their own (pino, PGlite's WASM, the AWS SDK) work as they do in
// development.
import { build, type Plugin } from "esbuild";
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = resolve(ROOT, "dist");

/** What each program's image runs: `node dist/<name>.mjs`. */
export const ENTRY_POINTS = {
  backend: "backend/src/main.ts",
  worker: "worker/src/main.ts",
  archive: "worker/src/archive/cli.ts",
  "license-server": "tools/license-server/src/cli.ts",
};

/** Third-party packages are imported at run time; our own workspaces are compiled in. */
const externalPackages: Plugin = {
  name: "external-packages",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith("@mcs/") ? undefined : { path: args.path, external: true }));
  },
};

/**
 * Files found beside the code (`new URL("./vendor-public-key.pem", import.meta.url)`, the built
 * site) keep pointing at the same file once the code lives in dist/: the relative path is
 * rewritten from the source file's folder to dist/.
 */
const fileUrls: Plugin = {
  name: "file-urls",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const contents = source.replace(/new URL\("(\.{1,2}\/[^"]*)", import\.meta\.url\)/g, (_match, path: string) => {
        const target = relative(OUT, resolve(dirname(args.path), path)) + (path.endsWith("/") ? "/" : "");
        return `new URL(${JSON.stringify(target.startsWith(".") ? target : `./${target}`)}, import.meta.url)`;
      });
      return { contents, loader: "ts" };
    });
  },
};

/** Writes dist/<name>.mjs for every entry point (quiet: warnings and errors only). */
export async function bundle(options: { quiet?: boolean } = {}): Promise<void> {
  await build({
    entryPoints: ENTRY_POINTS,
    outdir: OUT,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    // Error stacks and logs keep the names of classes and functions.
    keepNames: true,
    plugins: [externalPackages, fileUrls],
    logLevel: options.quiet ? "warning" : "info",
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await bundle();
