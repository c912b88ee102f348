import type { User } from "@mcs/protocol";
import { http } from "./http.ts";

export const authApi = {
  login: (username: string, password: string) =>
    http.post<{ token: string; user: User }>("/api/auth/login", { username, password }, { allowUnauthenticated: true }),
  logout: () => http.post<void>("/api/auth/logout", undefined, { allowUnauthenticated: true }),
  /** The session's user (401 when there is none). */
  me: () => http.get<User>("/api/auth/me", { allowUnauthenticated: true }),
  /** Changes the session user's own password; their other sessions end, this one stays. */
  changePassword: (current_password: string, new_password: string) => http.post<void>("/api/auth/password", { current_password, new_password }),
};
