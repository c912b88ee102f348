import { GAS_PROFILES, type GasName } from "./gases.ts";

/** Logs in through `POST /api/auth/login`; answers the bearer token. */
export async function login(api: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${api}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: { message?: string } };
  if (!response.ok || !body.token) throw new Error(`login as ${username} failed: HTTP ${response.status} ${body.error?.message ?? ""}`.trim());
  return body.token;
}

/**
 * Registers one device through `POST /api/devices` with its gas's unit and alarm presets
 * and the factory calibration (k = 1, b = 0: the simulator's v_raw reads as the gas value);
 * answers its MQTT password. A device that already exists gets a new password
 * (`POST /api/devices/{sn}/credentials`), since the old one was shown only once.
 */
export async function registerDevice(api: string, token: string, sn: string, gas: GasName): Promise<{ password: string; created: boolean }> {
  const p = GAS_PROFILES[gas];
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  const body = { sn, name: `Simulated ${gas} ${sn}`, gas, unit: p.unit, k: 1, b: 0, t_comp: 0, t_ref: 20, high_limit: p.highLimit, low_limit: p.lowLimit };
  const created = await fetch(`${api}/api/devices`, { method: "POST", headers, body: JSON.stringify(body) });
  if (created.status === 201) return { password: ((await created.json()) as { mqtt_password: string }).mqtt_password, created: true };
  if (created.status !== 409) throw new Error(`registering ${sn} failed: HTTP ${created.status} ${await errorMessage(created)}`);
  const rotated = await fetch(`${api}/api/devices/${encodeURIComponent(sn)}/credentials`, { method: "POST", headers: { authorization: headers.authorization } });
  if (!rotated.ok) throw new Error(`${sn} exists and its password could not be renewed: HTTP ${rotated.status} ${await errorMessage(rotated)}`);
  return { password: ((await rotated.json()) as { mqtt_password: string }).mqtt_password, created: false };
}

async function errorMessage(response: Response): Promise<string> {
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
  return body.error?.message ?? "";
}
