import { existsSync } from "node:fs";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync, FastifyReply } from "fastify";

/** Where `npm run build -w frontend` writes the site. */
export const FRONTEND_DIST = fileURLToPath(new URL("../../../../frontend/dist/", import.meta.url));

export interface FrontendOptions {
  /** The built site (default: the frontend workspace's `dist`). */
  root?: string;
}

/** A file name with an extension: an asset that exists or a 404, never the app's page. */
const ASSET_PATH = /\.[A-Za-z0-9]+$/;

/**
 * The page's rules: scripts and styles from this server only (Element Plus sets inline
 * styles), the API and WebSocket on the same origin, no framing by other sites.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
].join("; ");

/**
 * The admin site, built by Vite, at `/`: assets as files, every other GET outside `/api`
 * answered with `index.html` so that the browser's router shows the page (`/devices/A001`
 * after a reload). Hashed assets are cached for a year; `index.html` is checked every
 * time, so a new release is picked up at the next load. Without a build (API-only tests,
 * a server without the frontend) it serves nothing and says so.
 *
 * Encapsulated (no fastify-plugin): `reply.sendFile` stays inside, free for other plugins
 * that register @fastify/static for their own files.
 */
export const frontendPlugin: FastifyPluginAsync<FrontendOptions> = async (app, options) => {
  const root = options.root ?? FRONTEND_DIST;
  if (!existsSync(join(root, "index.html"))) {
    app.log.warn({ root }, "no built frontend: run `npm run build -w frontend`; the API works without it");
    return;
  }
  const assets = join(root, "assets") + sep;

  await app.register(fastifyStatic, {
    root,
    // Files are routed below (with the fallback), read from disk per request: a rebuild is served at once.
    serve: false,
    cacheControl: false,
    // The build wrote .br and .gz beside each file: sent as they are to browsers that take them.
    preCompressed: true,
    setHeaders(reply: FastifyReply, path: string) {
      reply.header("x-content-type-options", "nosniff");
      if (path.startsWith(assets)) {
        reply.header("cache-control", "public, max-age=31536000, immutable");
      } else {
        reply.header("cache-control", "no-cache");
        if (path.endsWith(".html")) {
          reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
          reply.header("referrer-policy", "same-origin");
        }
      }
    },
  });

  app.route({
    method: ["GET", "HEAD"],
    url: "/*",
    schema: { hide: true },
    handler(request, reply) {
      const path = `/${(request.params as { "*": string })["*"]}`;
      // The API keeps its JSON 404 (`{"error":…}`), whatever the path.
      if (path === "/api" || path.startsWith("/api/")) return reply.callNotFound();
      if (ASSET_PATH.test(path)) return reply.sendFile(path);
      return reply.sendFile("index.html");
    },
  });
};
