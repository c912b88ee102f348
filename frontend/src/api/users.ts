import type { Role, UserAccount, UserPatch } from "@mcs/protocol";
import { http } from "./http.ts";

const path = (id: number) => `/api/users/${id}`;

/** People's accounts (admin only). */
export const usersApi = {
  list: async () => (await http.get<{ data: UserAccount[] }>("/api/users")).data,
  create: (body: { username: string; password: string; role: Role }) => http.post<UserAccount>("/api/users", body),
  /** A role change or disabling ends the user's sessions at once. */
  update: (id: number, patch: UserPatch) => http.patch<UserAccount>(path(id), patch),
  resetPassword: (id: number, password: string) => http.post<void>(`${path(id)}/password`, { password }),
  unlock: (id: number) => http.post<UserAccount>(`${path(id)}/unlock`),
  remove: (id: number) => http.delete(path(id)),
};
