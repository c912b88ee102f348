import { computed, ref } from "vue";
import { defineStore } from "pinia";
import type { LicenseView } from "@mcs/protocol";
import { ApiError } from "../api/http.ts";
import { licenseApi, type LicenseSummary } from "../api/license.ts";
import { useSessionStore } from "./session.ts";

const DAY_MS = 86_400_000;
/** A trial this close to its end gets the banner. */
export const TRIAL_WARNING_DAYS = 7;

/** What the banner above the admin pages says, if anything. */
export type LicenseBanner = { kind: "grace"; until: string | null } | { kind: "trialEnding"; until: string; days: number } | null;

/** Whole days from now until `iso` (at least 0). */
export function daysUntil(iso: string, now = Date.now()): number {
  return Math.max(0, Math.ceil((Date.parse(iso) - now) / DAY_MS));
}

/** The banner for a license state: grace, or a trial in its last days. */
export function bannerFor(summary: LicenseSummary | null, now = Date.now()): LicenseBanner {
  if (!summary || summary.locked) return null;
  if (summary.state === "grace") return { kind: "grace", until: summary.grace_until ?? null };
  if (summary.state === "trial" && summary.expires_at) {
    const days = daysUntil(summary.expires_at, now);
    if (Date.parse(summary.expires_at) - now <= TRIAL_WARNING_DAYS * DAY_MS) return { kind: "trialEnding", until: summary.expires_at, days };
  }
  return null;
}

/**
 * The reason in the API's refusal, "the license is locked: <reason>. An admin can install…":
 * the part a person needs (the advice is the modal's, in their language); else the message whole.
 */
export function refusalReason(message: string): string {
  const match = /^the license is [a-z]+: (.+?)\. An admin can /s.exec(message);
  return match?.[1] ?? message;
}

/**
 * The license as the app knows it: read from `GET /api/license` when logged in, else from
 * `GET /api/health` (the login page, a wall screen's kiosk), and locked at once when the API
 * refuses for the license (`MCS_ERR_LICENSE`), whatever the last look said.
 */
export const useLicenseStore = defineStore("license", () => {
  const summary = ref<LicenseSummary | null>(null);
  /** The full view (logged in only): the license page's and the settings page's. */
  const view = ref<LicenseView | null>(null);
  /** The API refused for the license since the last look at the state. */
  const refusedByApi = ref(false);
  /** The API's words when it refused: the reason when the state (from health) carries none. */
  const refusalMessage = ref("");

  const locked = computed(() => refusedByApi.value || summary.value?.locked === true);
  const reason = computed(() => summary.value?.reason || refusalMessage.value);
  const banner = computed(() => bannerFor(summary.value));

  /** Counts the API's refusals: a look begun before the latest one cannot undo it. */
  let refusals = 0;

  /** A state the server just answered (an install, a check, a look begun after the last refusal). */
  function apply(next: LicenseView, seenRefusals = refusals): void {
    view.value = next;
    setSummary(next, seenRefusals);
  }

  function setSummary(next: LicenseSummary, seenRefusals: number): void {
    summary.value = next;
    if (seenRefusals === refusals) refusedByApi.value = false;
    if (!next.locked && !refusedByApi.value) refusalMessage.value = "";
  }

  let loading: Promise<void> | null = null;
  /** Looks at the state now (one look at a time; callers during a look share it). */
  function refresh(): Promise<void> {
    loading ??= (async () => {
      const seen = refusals;
      const session = useSessionStore();
      if (session.user) {
        try {
          // A poll must not leave the page when the session ends: the next page does that.
          apply(await licenseApi.get({ allowUnauthenticated: true }), seen);
          return;
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 401)) throw error;
        }
      }
      const fromHealth = await licenseApi.fromHealth();
      if (fromHealth) setSummary(fromHealth, seen);
    })().finally(() => (loading = null));
    return loading;
  }

  /** The API refused an action for the license: the app is locked now, and the state is fetched. */
  function refusedForLicense(message: string): void {
    refusals += 1;
    refusedByApi.value = true;
    refusalMessage.value = refusalReason(message);
    // After any look already under way (begun before this refusal, it cannot clear it).
    void (loading ?? Promise.resolve())
      .catch(() => {})
      .then(refresh)
      .catch(() => {});
  }

  return { summary, view, locked, reason, banner, apply, refresh, refusedForLicense };
});
