import type { Alarm, AlarmDetail, AlarmType } from "@mcs/protocol";
import { http, urlOf } from "./http.ts";

export interface AlarmFilter {
  /** A state, `open` (any but closed), or empty for all. */
  state?: string;
  type?: AlarmType | "";
  sn?: string;
}

const query = (filter: AlarmFilter) => ({ state: filter.state, type: filter.type, sn: filter.sn?.trim() });

export const alarmsApi = {
  list: async (filter: AlarmFilter) => (await http.get<{ data: Alarm[] }>("/api/alarms", { query: query(filter) })).data,
  /** A download link for the same alarms (the session cookie goes with it). */
  /** One alarm with its episodes, events and notifications. */
  get: (id: number) => http.get<AlarmDetail>(`/api/alarms/${id}`),
  exportUrl: (filter: AlarmFilter) => urlOf("/api/alarms/export.csv", query(filter)),
  ack: (id: number, comment: string) => http.post<Alarm>(`/api/alarms/${id}/ack`, { comment }),
  clear: (id: number, comment: string) => http.post<Alarm>(`/api/alarms/${id}/clear`, { comment }),
};
