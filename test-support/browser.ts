import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { inject } from "vitest";
import { requireBuiltFrontend } from "../frontend/scripts/build-if-stale.ts";

/** Debian's Chromium (`apt-get install -y chromium fonts-wqy-microhei`); never a downloaded one. */
export const CHROMIUM_PATH = process.env.MCS_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = join(import.meta.dirname, "..", "test-artifacts", "screenshots");

/**
 * Headless Chromium as STACK.md found it to work here: no sandbox (tests run as root), no
 * GPU, nothing fetched from the internet. Playwright gives every launch a fresh, throwaway
 * profile (user-data dir) and every context its own cookies and storage.
 */
export async function launchBrowser(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  } catch (error) {
    throw new Error(`Chromium did not start from ${CHROMIUM_PATH} (apt-get install -y chromium fonts-wqy-microhei): ${(error as Error).message}`);
  }
}

/** Saves a full-page screenshot as `test-artifacts/screenshots/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * For a test that drives the built site: throws when `frontend/dist` is missing, with the
 * global set-up's build error if it had one.
 */
export function requireBuiltSite(): void {
  requireBuiltFrontend(inject("frontendBuildError"));
}
