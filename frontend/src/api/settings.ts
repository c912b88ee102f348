import type { RetentionSettings, Settings, StorageSettingsInput, StorageSettingsView, StorageTestResult } from "@mcs/protocol";
import { http } from "./http.ts";

/** The storage form as sent: the secret left out keeps the stored one. */
export type StorageBody = Omit<StorageSettingsInput, "secret_access_key"> & { secret_access_key?: string };

export const settingsApi = {
  get: () => http.get<Settings>("/api/settings"),
  saveStorage: (body: StorageBody) => http.put<StorageSettingsView>("/api/settings/storage", body),
  /** Tests the settings given (before saving them), with the stored secret when none is given. */
  testStorage: (body: StorageBody) => http.post<StorageTestResult>("/api/settings/storage/test", body),
  saveRetention: (body: RetentionSettings) => http.put<RetentionSettings>("/api/settings/retention", body),
};
