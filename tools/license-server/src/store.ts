import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { PGlite, Transaction } from "@electric-sql/pglite";
import { licenseEndsAt, type CheckAnswer, type CheckRequest, type License } from "@mcs/core";
import { conflict, notFound } from "./errors.ts";

/** A license as the vendor sees it: what was granted, and what became of it. */
export interface LicenseView {
  id: string;
  customer: string;
  plant: string;
  device_limit: number;
  features: string[];
  issued_at: string;
  expires_at: string;
  fingerprint: string;
  server: string | null;
  /** ISO 8601: when it entered this store. */
  recorded_at: string;
  revoked_at: string | null;
  revoke_reason: string | null;
  /** ISO 8601: the latest check naming it (from any machine). */
  last_check_at: string | null;
  last_check_status: CheckAnswer["status"] | null;
  /** At the time asked: `revoked` wins over `expired`. */
  state: "active" | "expired" | "revoked";
}

export interface CustomerView {
  name: string;
  /** ISO 8601: when its first license entered this store. */
  created_at: string;
  licenses: number;
  revoked: number;
  /** ISO 8601: the latest check of any of its licenses. */
  last_check_at: string | null;
}

export interface CheckRecord extends CheckRequest {
  status: CheckAnswer["status"];
}

// The dates stay text in and out (`::text`): a license's days are plant days, never shifted by a zone.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS customers (
  name text PRIMARY KEY,
  created_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS licenses (
  id text PRIMARY KEY,
  customer text NOT NULL REFERENCES customers (name),
  plant text NOT NULL,
  device_limit integer NOT NULL CHECK (device_limit >= 1),
  features text[] NOT NULL,
  issued_at date NOT NULL,
  expires_at date NOT NULL,
  fingerprint text NOT NULL,
  server text,
  file text NOT NULL,
  recorded_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoke_reason text
);
CREATE INDEX IF NOT EXISTS licenses_customer ON licenses (customer);
CREATE TABLE IF NOT EXISTS checks (
  id bigserial PRIMARY KEY,
  license_id text NOT NULL,
  fingerprint text NOT NULL,
  nonce text NOT NULL,
  at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('valid', 'revoked', 'unknown'))
);
CREATE INDEX IF NOT EXISTS checks_license_at ON checks (license_id, at DESC);
`;

const LICENSE_COLUMNS = `
  l.id, l.customer, l.plant, l.device_limit, l.features, l.issued_at::text AS issued_at, l.expires_at::text AS expires_at,
  l.fingerprint, l.server, l.recorded_at, l.revoked_at, l.revoke_reason, c.at AS last_check_at, c.status AS last_check_status
FROM licenses l
LEFT JOIN LATERAL (SELECT at, status FROM checks WHERE checks.license_id = l.id ORDER BY at DESC, id DESC LIMIT 1) c ON true`;

interface LicenseRow {
  id: string;
  customer: string;
  plant: string;
  device_limit: number;
  features: string[];
  issued_at: string;
  expires_at: string;
  fingerprint: string;
  server: string | null;
  recorded_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
  last_check_at: Date | null;
  last_check_status: CheckAnswer["status"] | null;
}

/**
 * The vendor's register of customers, licenses and checks, in PGlite (PostgreSQL in WASM)
 * under one folder. One process at a time: see `store-lock.ts`.
 */
export class VendorLicenseStore {
  private constructor(private readonly pg: PGlite) {}

  /** Opens (or makes) the store in `dir`; the database lives in `dir/pglite`. */
  static async open(dir: string): Promise<VendorLicenseStore> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Loaded on demand: the CLI's keygen and fingerprint never need the 40 MB of WASM.
    const { PGlite } = await import("@electric-sql/pglite");
    const pg = await PGlite.create(join(dir, "pglite"));
    await pg.exec(SCHEMA);
    return new VendorLicenseStore(pg);
  }

  /**
   * Records an issued license (already verified by the caller). The same file again is
   * no change (`created: false`); another file under a known id is a conflict.
   */
  async addLicense(license: License, file: string, now: number): Promise<{ created: boolean; license: LicenseView }> {
    const created = await this.pg.transaction(async (tx) => {
      const at = new Date(now).toISOString();
      await tx.query("INSERT INTO customers (name, created_at) VALUES ($1, $2::timestamptz) ON CONFLICT (name) DO NOTHING", [license.customer, at]);
      const inserted = await tx.query(
        `INSERT INTO licenses (id, customer, plant, device_limit, features, issued_at, expires_at, fingerprint, server, file, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6::date, $7::date, $8, $9, $10, $11::timestamptz) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [license.id, license.customer, license.plant, license.device_limit, license.features, license.issued_at, license.expires_at, license.fingerprint, license.server ?? null, file, at],
      );
      if (inserted.rows.length > 0) return true;
      const existing = await tx.query<{ file: string }>("SELECT file FROM licenses WHERE id = $1", [license.id]);
      if (existing.rows[0]?.file !== file) throw conflict(`license ${license.id}: another license with this id is on record`);
      return false;
    });
    return { created, license: await this.requireLicense(license.id, now) };
  }

  async findLicense(id: string, now: number, db: Pick<PGlite | Transaction, "query"> = this.pg): Promise<LicenseView | null> {
    const result = await db.query<LicenseRow>(`SELECT ${LICENSE_COLUMNS} WHERE l.id = $1`, [id]);
    const row = result.rows[0];
    return row ? licenseView(row, now) : null;
  }

  /** The license file as issued, to send it again. */
  async licenseFile(id: string): Promise<string | null> {
    const result = await this.pg.query<{ file: string }>("SELECT file FROM licenses WHERE id = $1", [id]);
    return result.rows[0]?.file ?? null;
  }

  /** Newest first. */
  async listLicenses(now: number): Promise<LicenseView[]> {
    const result = await this.pg.query<LicenseRow>(`SELECT ${LICENSE_COLUMNS} ORDER BY l.recorded_at DESC, l.id`);
    return result.rows.map((row) => licenseView(row, now));
  }

  async listCustomers(): Promise<CustomerView[]> {
    const result = await this.pg.query<{ name: string; created_at: Date; licenses: number; revoked: number; last_check_at: Date | null }>(`
      SELECT cu.name, cu.created_at,
        (SELECT count(*)::int FROM licenses l WHERE l.customer = cu.name) AS licenses,
        (SELECT count(*)::int FROM licenses l WHERE l.customer = cu.name AND l.revoked_at IS NOT NULL) AS revoked,
        (SELECT max(c.at) FROM checks c JOIN licenses l ON l.id = c.license_id WHERE l.customer = cu.name) AS last_check_at
      FROM customers cu ORDER BY cu.name`);
    return result.rows.map((row) => ({ ...row, created_at: row.created_at.toISOString(), last_check_at: iso(row.last_check_at) }));
  }

  /** Revokes a license for good: the next check of it answers `revoked`. */
  async revoke(id: string, reason: string | null, now: number): Promise<LicenseView> {
    return this.pg.transaction(async (tx) => {
      const current = await this.findLicense(id, now, tx);
      if (!current) throw notFound(`license ${id}: no such license`);
      if (current.revoked_at !== null) throw conflict(`license ${id}: already revoked at ${current.revoked_at}${current.revoke_reason ? ` (${current.revoke_reason})` : ""}`);
      await tx.query("UPDATE licenses SET revoked_at = $2::timestamptz, revoke_reason = $3 WHERE id = $1", [id, new Date(now).toISOString(), reason]);
      return (await this.findLicense(id, now, tx)) as LicenseView;
    });
  }

  async recordCheck(check: CheckRecord, now: number): Promise<void> {
    await this.pg.query("INSERT INTO checks (license_id, fingerprint, nonce, at, status) VALUES ($1, $2, $3, $4::timestamptz, $5)", [
      check.license_id, check.fingerprint, check.nonce, new Date(now).toISOString(), check.status,
    ]);
  }

  /** The checks naming a license, newest first. */
  async checksOf(licenseId: string): Promise<Array<CheckRecord & { at: string }>> {
    const result = await this.pg.query<CheckRecord & { at: Date }>(
      "SELECT license_id, fingerprint, nonce, status, at FROM checks WHERE license_id = $1 ORDER BY at DESC, id DESC", [licenseId],
    );
    return result.rows.map((row) => ({ ...row, at: row.at.toISOString() }));
  }

  /** Throws when the database does not answer. */
  async ping(): Promise<void> {
    await this.pg.query("SELECT 1");
  }

  async close(): Promise<void> {
    await this.pg.close();
  }

  private async requireLicense(id: string, now: number): Promise<LicenseView> {
    const license = await this.findLicense(id, now);
    if (!license) throw notFound(`license ${id}: no such license`);
    return license;
  }
}

function licenseView(row: LicenseRow, now: number): LicenseView {
  const state = row.revoked_at !== null ? "revoked" : now >= licenseEndsAt(row) ? "expired" : "active";
  return {
    ...row,
    recorded_at: row.recorded_at.toISOString(),
    revoked_at: iso(row.revoked_at),
    last_check_at: iso(row.last_check_at),
    state,
  };
}

function iso(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}
