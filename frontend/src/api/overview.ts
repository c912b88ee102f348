import type { Overview } from "@mcs/protocol";
import { http } from "./http.ts";

/** `GET /api/overview`: the plant at a glance (the open alarms: `alarmsApi.list({ state: "open" })`). */
export const overviewApi = {
  get: () => http.get<Overview>("/api/overview"),
};
