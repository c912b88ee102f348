import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { loadConfig, type Config } from "@mcs/platform";
import { startServer, type Server } from "../server/src/server.ts";
import { launchBrowser, requireBuiltSite } from "./browser.ts";

/** The whole product in one process (`startServer`, embedded mode) on a fresh data folder, and a Chromium to drive it. */
export interface EmbeddedSite {
  server: Server;
  browser: Browser;
  /** The data folder (MCS_DATA_DIR), removed by `stop`. */
  dir: string;
  /** `http://127.0.0.1:<port>` of the admin site and the API. */
  base: string;
  stop(): Promise<void>;
}

/**
 * Starts the server on free ports with `env` over the embedded defaults (`name` names the data
 * folder) and Chromium beside it. `tune` changes the loaded config where no variable does
 * (a test's faster demo scenario).
 */
export async function startEmbeddedSite(name: string, env: Record<string, string>, tune: (config: Config) => Config = (config) => config): Promise<EmbeddedSite> {
  requireBuiltSite();
  const dir = mkdtempSync(join(tmpdir(), `mcs-${name}-`));
  const config = tune(loadConfig({ MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0", ...env }));
  const [server, browser] = await Promise.all([startServer(config), launchBrowser()]).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    server,
    browser,
    dir,
    base: `http://127.0.0.1:${server.httpPort}`,
    async stop() {
      await browser.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Collects a page's uncaught errors and console errors into `errors` (a failed fetch is the test's own business). */
export function collectPageErrors(page: Page, errors: string[]): void {
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(message.text());
  });
}

/** The API as the page itself calls it: its session cookie, and the CSRF header on changes. */
export function pageApi<T>(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return page.evaluate(async ({ method, path, body }) => {
    const csrf = document.cookie.split("; ").find((part) => part.startsWith("mcs_csrf="))?.slice("mcs_csrf=".length);
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...(csrf && method !== "GET" ? { "x-csrf-token": decodeURIComponent(csrf) } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: response.status === 204 ? null : await response.json() };
  }, { method, path, body }) as Promise<{ status: number; body: T }>;
}
