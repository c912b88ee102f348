import { ref } from "vue";
import { defineStore } from "pinia";
import type { Role, User } from "@mcs/protocol";
import { authApi } from "../api/auth.ts";
import { ApiError } from "../api/http.ts";
import { loadPlantTimeZone } from "../lib/plant-time.ts";

/**
 * Who may do what, as the backend's routes decide it (devices: DEVICE_EDITORS; alarms:
 * ALARM_ANSWERERS, ALARM_RESETTERS). The server enforces; the UI only hides what would be refused.
 */
const PERMISSIONS = {
  editDevices: ["admin", "engineer"],
  ackAlarms: ["admin", "engineer", "operator"],
  clearAlarms: ["admin", "engineer"],
  // People, audit and settings (routes users, audit: admin; settings: admin and engineer read, admin changes).
  manageUsers: ["admin"],
  viewAudit: ["admin"],
  viewSettings: ["admin", "engineer"],
  editSettings: ["admin"],
  // The license (routes license: every logged-in user reads; admins install a file or check now).
  manageLicense: ["admin"],
  // Offline analysis of archive files (route archive/objects: admin and engineer read the archive).
  analyseArchive: ["admin", "engineer"],
  // Wall screens' read-only links (route kiosk-tokens: admin).
  manageKiosks: ["admin"],
} satisfies Record<string, Role[]>;
export type Permission = keyof typeof PERMISSIONS;

/** The logged-in user. The session itself is an httpOnly cookie the page never sees. */
export const useSessionStore = defineStore("session", () => {
  const user = ref<User | null>(null);
  /** Whether the server was asked about the session since the page loaded. */
  const restored = ref(false);

  /** Reactive where it is read (a template, a computed): the role is the user's, as stored now. */
  function can(permission: Permission): boolean {
    return user.value !== null && (PERMISSIONS[permission] as Role[]).includes(user.value.role);
  }

  async function login(username: string, password: string): Promise<void> {
    user.value = (await authApi.login(username, password)).user;
    restored.value = true;
    // Every time shown is in the plant's zone (Asia/Shanghai until this answers).
    await loadPlantTimeZone();
  }

  /**
   * Asks the server whether the cookie still holds a session (once per page load). A server
   * that cannot be reached counts as no session for now, and is asked again at the next page.
   */
  async function restore(): Promise<void> {
    if (restored.value) return;
    try {
      user.value = await authApi.me();
      restored.value = true;
      await loadPlantTimeZone();
    } catch (error) {
      user.value = null;
      if (error instanceof ApiError && error.status === 401) restored.value = true;
    }
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout();
    } finally {
      forget();
    }
  }

  /** The session is gone (expired, revoked, logged out elsewhere). */
  function forget(): void {
    user.value = null;
  }

  return { user, restored, can, login, restore, logout, forget };
});
