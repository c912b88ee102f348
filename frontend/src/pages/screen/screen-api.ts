import type { Alarm, Device, Floorplan, Trend } from "@mcs/protocol";
import { ApiError, http, type RequestOptions } from "../../api/http.ts";
import { loadPlantTimeZone } from "../../lib/plant-time.ts";
import { kioskToken } from "./kiosk.ts";

export type TrendRange = Trend["range"];

/**
 * What the big screen reads, as a kiosk (the token as `Authorization: Bearer`) or as the
 * logged-in user (the session cookie). A 401 is the screen's to handle (its own notice, or
 * the login page), never the admin site's redirect.
 */
function options(extra: RequestOptions = {}): RequestOptions {
  const token = kioskToken();
  return { ...extra, allowUnauthenticated: true, ...(token ? { bearer: token } : {}) };
}

export const screenApi = {
  devices: async () => (await http.get<{ data: Device[] }>("/api/devices", options())).data,
  openAlarms: async () => (await http.get<{ data: Alarm[] }>("/api/alarms", options({ query: { state: "open", limit: 1000 } }))).data,
  /** Reads the plant's time zone into lib/plant-time.ts (kept as it is on a failure). */
  loadPlantTimeZone: () => loadPlantTimeZone(options()),
  floorplans: async () => (await http.get<{ data: Floorplan[] }>("/api/floorplans", options())).data,
  trend: (sn: string, range: TrendRange) => http.get<Trend>(`/api/devices/${encodeURIComponent(sn)}/trend`, options({ query: { range } })),
  /** Acknowledge (logged-in operators and up; never a kiosk). */
  ack: (id: number, comment: string) => http.post<Alarm>(`/api/alarms/${id}/ack`, { comment }, { allowUnauthenticated: true }),

  /**
   * A plan's drawing as an object URL: an `<img src>` cannot send the kiosk's token. The
   * caller revokes the URL when the drawing is no longer shown.
   */
  async floorplanImage(id: number): Promise<string> {
    const token = kioskToken();
    let response: Response;
    try {
      response = await fetch(`/api/floorplans/${id}/image`, { credentials: "same-origin", headers: token ? { authorization: `Bearer ${token}` } : {} });
    } catch (error) {
      throw new ApiError(0, "network", error instanceof Error ? error.message : String(error));
    }
    if (!response.ok) throw new ApiError(response.status, `HTTP_${response.status}`, response.statusText);
    return URL.createObjectURL(await response.blob());
  },
};
