import { ArchiveObjectListSchema, ArchiveRestoreResultSchema, ArchiveRunListSchema, type ArchiveRun } from "@mcs/protocol";
import { http } from "./http.ts";

/** A run still to finish: the page follows it until it is one of the others. */
export function isActive(run: Pick<ArchiveRun, "state">): boolean {
  return run.state === "queued" || run.state === "running";
}

/**
 * The archive (`/api/archive/*`): runs, what is stored, and restoring a day. Answers are
 * checked with the shared schemas, so a change of contract shows as an error, not as "—".
 */
export const archiveApi = {
  /** Admins: archives every whole day before `before` (default: older than the retention); answers at once, the run goes on. */
  run: async (before?: string) => (await http.post<{ id: number }>("/api/archive/run", before ? { before } : {})).id,
  /** Newest first. */
  runs: async () => ArchiveRunListSchema.parse(await http.get<unknown>("/api/archive/runs")).data,
  objects: async () => ArchiveObjectListSchema.parse(await http.get<unknown>("/api/archive/objects")),
  /** Admins: loads an archived day back; restoring twice stores each reading once. */
  restore: async (day: string) => ArchiveRestoreResultSchema.parse(await http.post<unknown>("/api/archive/restore", { day })),
};
