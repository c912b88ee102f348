import type { RouteLocationNormalized, RouteLocationRaw } from "vue-router";

/**
 * A wall screen's login: `/screen?token=<kiosk token>`. The token is kept for the tab's
 * life (sessionStorage: a reload stays logged in, a copied address carries no secret) and
 * taken out of the address bar at once.
 */
const TOKEN_KEY = "mcs.screen.token";
/** An optional plant name for the title bar: `/screen?title=…` (kept like the token). */
const TITLE_KEY = "mcs.screen.title";

export function kioskToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function forgetKioskToken(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: nothing was kept.
  }
}

export function screenTitle(): string | null {
  try {
    return sessionStorage.getItem(TITLE_KEY);
  } catch {
    return null;
  }
}

function keep(key: string, value: unknown): boolean {
  if (typeof value !== "string" || value.trim() === "") return false;
  try {
    sessionStorage.setItem(key, value.trim());
  } catch {
    // Storage disabled: the screen works for this page load only.
  }
  return true;
}

/**
 * The `/screen` route's guard: a token in the address is kept and removed from it; a kept
 * token lets the screen in; otherwise a logged-in session does (`loggedIn` asks once).
 */
export async function screenGuard(to: RouteLocationNormalized, loggedIn: () => Promise<boolean>): Promise<true | RouteLocationRaw> {
  const tokenGiven = keep(TOKEN_KEY, to.query.token);
  const titleGiven = keep(TITLE_KEY, to.query.title);
  if (tokenGiven || titleGiven || "token" in to.query) {
    const { token: _token, title: _title, ...query } = to.query;
    return { path: to.path, query, hash: to.hash, replace: true };
  }
  if (kioskToken()) return true;
  return (await loggedIn()) ? true : { path: "/login", query: { redirect: to.fullPath } };
}
