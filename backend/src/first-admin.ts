import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hashPassword, randomSecret } from "@mcs/core";
import { createLogger, UserStore, type Db } from "@mcs/platform";

const log = createLogger("backend.first-admin");

export const FIRST_ADMIN = "admin";
export const INITIAL_PASSWORD_FILE = "initial-admin-password";

export interface FirstAdminOptions {
  /** MCS_ADMIN_PASSWORD; unset: a random one, printed once and written to a file. */
  password?: string | undefined;
  dataDir: string;
  /** Where the one line with a generated password goes (stdout). */
  print?: (line: string) => void;
}

export type FirstAdminResult = { created: false } | { created: true; generated: boolean; passwordFile?: string };

/**
 * Makes the first user, `admin`, when there is no user at all. With no password given, a
 * random one is printed once on its own line (never through the logger) and written to
 * `${dataDir}/initial-admin-password`, readable by the owner only.
 */
export async function ensureFirstAdmin(db: Db, options: FirstAdminOptions): Promise<FirstAdminResult> {
  const users = new UserStore(db);
  if ((await users.count()) > 0) return { created: false };
  const generated = options.password === undefined;
  const password = options.password ?? randomSecret(18);
  try {
    await users.create(FIRST_ADMIN, await hashPassword(password), "admin", { name: "system" });
  } catch (error) {
    // Another process (the worker and the backend start together) made it first.
    if ((await users.count()) > 0) return { created: false };
    throw error;
  }
  log.info({ username: FIRST_ADMIN, generated }, "first admin created");
  if (!generated) return { created: true, generated };

  const passwordFile = join(options.dataDir, INITIAL_PASSWORD_FILE);
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  print(`MCS-IoT: the first user is "${FIRST_ADMIN}" with the password ${password} (also in ${passwordFile}; change it after logging in)`);
  await mkdir(options.dataDir, { recursive: true });
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  await chmod(passwordFile, 0o600); // an older file keeps its mode through writeFile
  return { created: true, generated, passwordFile };
}
