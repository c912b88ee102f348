import { readFileSync } from "node:fs";
import { machineFingerprint } from "@mcs/core";

/**
 * Where the machine id is read, first found wins: the host's own (on the host, or mounted
 * read-only into the container at the same path by the compose file), then D-Bus's copy
 * (older systems and some containers have only that).
 */
export const MACHINE_ID_FILES = ["/etc/machine-id", "/var/lib/dbus/machine-id"];

/** This machine's license fingerprint, or null when it has no machine id. */
export function readMachineFingerprint(files: readonly string[] = MACHINE_ID_FILES): { fingerprint: string; source: string } | null {
  for (const file of files) {
    let id: string;
    try {
      id = readFileSync(file, "utf8").trim();
    } catch {
      continue;
    }
    if (/^[0-9a-f]{32}$/i.test(id)) return { fingerprint: machineFingerprint(id.toLowerCase()), source: file };
  }
  return null;
}
