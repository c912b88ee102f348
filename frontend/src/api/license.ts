import { LICENSE_STATES, LicenseViewSchema, type LicenseStateName, type LicenseView } from "@mcs/protocol";
import { http, type RequestOptions } from "./http.ts";

/** The states in which ingest holds its readings and the API refuses. */
export const LOCKING_STATES: readonly LicenseStateName[] = ["locked", "expired", "invalid"];

/**
 * What every page needs to know about the license: a full view (`GET /api/license`, logged
 * in) or only what `GET /api/health` says (the login page, a wall screen's kiosk).
 */
export type LicenseSummary = Pick<LicenseView, "state" | "locked"> & Partial<Omit<LicenseView, "state" | "locked">>;

function isState(value: unknown): value is LicenseStateName {
  return typeof value === "string" && (LICENSE_STATES as readonly string[]).includes(value);
}

/**
 * The health answer's `license` field: the state's name, or an object carrying at least the
 * state (and perhaps `locked`, `reason`, `grace_until`, `expires_at`). Anything else: unknown.
 */
export function summaryFromHealth(license: unknown): LicenseSummary | null {
  if (isState(license)) return { state: license, locked: LOCKING_STATES.includes(license) };
  if (!license || typeof license !== "object") return null;
  const partial = LicenseViewSchema.partial().safeParse(license);
  if (!partial.success || !partial.data.state) return null;
  const { state, locked, ...rest } = partial.data;
  return { ...rest, state, locked: locked ?? LOCKING_STATES.includes(state) };
}

/** The license file as issued, sent as it is: the signature covers every byte. */
function fileBody(text: string): Blob {
  return new Blob([text], { type: "text/plain" });
}

export const licenseApi = {
  /** Any logged-in user. A lost session is the caller's to handle (a poll must not leave the page). */
  get: async (options?: RequestOptions) => LicenseViewSchema.parse(await http.get<unknown>("/api/license", options)),
  /** Admins: installs a license file; a 400 names why it was refused, and the current license stays. */
  install: async (text: string) => LicenseViewSchema.parse(await http.post<unknown>("/api/license", fileBody(text))),
  /** Admins: asks the vendor's license server now. */
  check: async () => LicenseViewSchema.parse(await http.post<unknown>("/api/license/check")),
  /** No login needed: the login page and a kiosk read the state here. */
  fromHealth: async () => {
    const health = await http.get<{ license?: unknown } | undefined>("/api/health", { allowUnauthenticated: true });
    return summaryFromHealth(health?.license);
  },
};
