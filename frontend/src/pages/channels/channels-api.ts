import type { ChannelCreate, ChannelPatch, ChannelView } from "@mcs/protocol";
import { http } from "../../api/http.ts";

const path = (id: number) => `/api/channels/${id}`;

/** `/api/channels`: secrets come back as "********", never as themselves. */
export const channelsApi = {
  list: async () => (await http.get<{ data: ChannelView[] }>("/api/channels")).data,
  create: (body: ChannelCreate) => http.post<ChannelView>("/api/channels", body),
  update: (id: number, patch: ChannelPatch) => http.patch<ChannelView>(path(id), patch),
  remove: (id: number) => http.delete(path(id)),
  /** A test message through the stored configuration: what the far end answered. */
  test: (id: number) => http.post<{ ok: boolean; detail: string }>(`${path(id)}/test`),
};
