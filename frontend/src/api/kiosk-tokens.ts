import type { z } from "zod";
import type { KioskTokenCreatedSchema, KioskTokenSchema } from "@mcs/protocol";
import { http } from "./http.ts";

export type KioskToken = z.infer<typeof KioskTokenSchema>;
export type KioskTokenCreated = z.infer<typeof KioskTokenCreatedSchema>;

/** `/api/kiosk-tokens` (admins): read-only logins for wall screens, `/screen?token=<token>`. */
export const kioskTokensApi = {
  list: async () => (await http.get<{ data: KioskToken[] }>("/api/kiosk-tokens")).data,
  /** The answer holds the token, shown this once. */
  create: (name: string) => http.post<KioskTokenCreated>("/api/kiosk-tokens", { name }),
  /** Refused from now on; its open screens are closed at once. */
  revoke: (id: number) => http.delete(`/api/kiosk-tokens/${id}`),
};

/** The link a wall screen opens: this site's big screen with the token. */
export function kioskUrl(token: string, origin: string = window.location.origin): string {
  return `${origin}/screen?token=${encodeURIComponent(token)}`;
}
