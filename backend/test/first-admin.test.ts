import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyPassword } from "@mcs/core";
import { UserStore, type Ports } from "@mcs/platform";
import { MODES, openTestPorts } from "../../test-support/ports.ts";
import { ensureFirstAdmin } from "../src/first-admin.ts";

describe.each(MODES)("ensureFirstAdmin (%s mode)", (mode) => {
  let ports: Ports;
  let dataDir: string;
  let printed: string[];
  const print = (line: string) => printed.push(line);
  const adminHash = async () => (await new UserStore(ports.db).findByUsername("admin"))?.password_hash;

  beforeEach(async () => {
    ports = await openTestPorts(mode);
    dataDir = await mkdtemp(join(tmpdir(), "mcs-first-admin-"));
    printed = [];
  });
  afterEach(async () => {
    await ports.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("creates admin with MCS_ADMIN_PASSWORD when there is no user, printing and writing nothing", async () => {
    expect(await ensureFirstAdmin(ports.db, { password: "from-the-environment", dataDir, print })).toEqual({ created: true, generated: false });
    expect(await verifyPassword("from-the-environment", (await adminHash())!)).toBe(true);
    expect((await new UserStore(ports.db).findByUsername("admin"))?.role).toBe("admin");
    expect(printed).toEqual([]);
    expect(existsSync(join(dataDir, "initial-admin-password"))).toBe(false);
  });

  it("without a password, makes a random one, prints it once on its own line and writes it to a 0600 file", async () => {
    const result = await ensureFirstAdmin(ports.db, { dataDir, print });
    const file = join(dataDir, "initial-admin-password");
    expect(result).toEqual({ created: true, generated: true, passwordFile: file });
    const password = (await readFile(file, "utf8")).trim();
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain(password);
    expect(await verifyPassword(password, (await adminHash())!)).toBe(true);
  });

  it("does nothing once a user exists, and never prints a password again", async () => {
    await ensureFirstAdmin(ports.db, { dataDir, print });
    const hash = await adminHash();
    printed = [];
    expect(await ensureFirstAdmin(ports.db, { dataDir, print })).toEqual({ created: false });
    expect(await ensureFirstAdmin(ports.db, { password: "another-password", dataDir, print })).toEqual({ created: false });
    expect(printed).toEqual([]);
    expect(await adminHash()).toBe(hash);
  });
});
