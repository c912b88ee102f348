import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import { hashPassword } from "@mcs/core";
import { UserStore, type Ports } from "@mcs/platform";
import type { Role } from "@mcs/protocol";
import { FakeClock } from "../../test-support/fake-clock.ts";
import { openTestPorts, type Mode } from "../../test-support/ports.ts";
import { buildApp, type AppDeps } from "../src/app.ts";

export { FakeClock };

export const PASSWORD = "correct horse battery";
export const USERS: Role[] = ["admin", "engineer", "operator", "viewer"];

export interface TestApp {
  app: FastifyInstance;
  ports: Ports;
  clock: FakeClock;
  /** A session token of the user named after the role (`admin`, `engineer`, `operator`, `viewer`). */
  tokenOf(role: Role): Promise<string>;
  /** Authorization header of that user. */
  as(role: Role): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

/** The app on a mode's ports, with one user per role (all with PASSWORD). */
export async function buildTestApp(mode: Mode, deps: Partial<AppDeps> = {}): Promise<TestApp> {
  const ports = await openTestPorts(mode);
  const clock = new FakeClock();
  const users = new UserStore(ports.db);
  const hash = await hashPassword(PASSWORD);
  for (const role of USERS) await users.create(role, hash, role, { name: "test" });
  const app = await buildApp({ ...ports, clock, health: { broker: () => (mode === "embedded" ? "embedded" : "ok") }, ...deps });
  const tokens = new Map<Role, string>();
  const tokenOf = async (role: Role) => {
    const known = tokens.get(role);
    if (known) return known;
    const res = await app.inject({ method: "POST", url: "/api/auth/login", payload: { username: role, password: PASSWORD } });
    expect(res.statusCode).toBe(200);
    const token = res.json<{ token: string }>().token;
    tokens.set(role, token);
    return token;
  };
  return {
    app,
    ports,
    clock,
    tokenOf,
    as: async (role) => ({ authorization: `Bearer ${await tokenOf(role)}` }),
    async close() {
      await app.close();
      await ports.close();
    },
  };
}

/** Asserts the documented error shape `{"error":{"code","message"}}`. */
export function expectError(res: LightMyRequestResponse, status: number, code: string, message?: RegExp | string): void {
  expect({ status: res.statusCode, body: res.json() }).toEqual({
    status,
    body: { error: { code, message: message === undefined ? expect.any(String) : typeof message === "string" ? message : expect.stringMatching(message) } },
  });
}

/** `target` with some methods replaced (a port that fails or hangs), prototype and all. */
export function overriding<T extends object>(target: T, patch: Partial<T>): T {
  return Object.assign(Object.create(target) as T, patch);
}
