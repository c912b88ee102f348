import { onBeforeUnmount, ref, shallowRef } from "vue";
import type { AnalysisSummary, SettingsOverride } from "@mcs/core/analysis";
import { plantTimeZone } from "../../lib/plant-time.ts";
import type { ArchiveSource, TrendAnswer, WhatIfAnswer, WorkerMessage, WorkerRequest } from "./worker-protocol.ts";

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

export interface ParseProgress {
  name: string;
  fileIndex: number;
  fileCount: number;
  bytesRead: number;
  bytesTotal: number;
  rows: number;
}

/**
 * The page's side of the analysis worker: open files, then ask for trends and replays.
 * Results are shallow refs: a summary of hundreds of devices must not be made deeply
 * reactive (that alone would freeze the page).
 */
export function useAnalysisWorker() {
  const worker = new Worker(new URL("./analysis.worker.ts", import.meta.url), { type: "module" });
  const summary = shallowRef<AnalysisSummary | null>(null);
  const progress = shallowRef<ParseProgress | null>(null);
  const parsing = ref(false);
  const error = ref("");
  const parseMs = ref<number | null>(null);
  const skipped = ref<string[]>([]);
  const pending = new Map<number, { resolve: (message: WorkerMessage) => void; reject: (error: Error) => void }>();
  let nextId = 1;

  worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
    const message = event.data;
    switch (message.type) {
      case "progress":
        progress.value = message;
        return;
      case "note":
        skipped.value = [...skipped.value, message.text];
        return;
      case "summary":
        summary.value = Object.freeze(message.summary);
        parseMs.value = message.parseMs;
        parsing.value = false;
        return;
      case "error":
        if (message.id !== undefined) {
          pending.get(message.id)?.reject(new Error(message.message));
          pending.delete(message.id);
          return;
        }
        error.value = message.message;
        parsing.value = false;
        return;
      case "trend":
      case "whatIf":
        pending.get(message.id)?.resolve(message);
        pending.delete(message.id);
        return;
    }
  };

  function send(request: WorkerRequest): void {
    worker.postMessage(request);
  }

  function open(sources: ArchiveSource[]): void {
    summary.value = null;
    progress.value = null;
    error.value = "";
    skipped.value = [];
    parseMs.value = null;
    parsing.value = true;
    // The heat map counts hours of the plant's day, in its zone.
    send({ type: "open", sources, timeZone: plantTimeZone.value });
  }

  function ask<T extends WorkerMessage>(request: WithoutId<Extract<WorkerRequest, { id: number }>>): Promise<T> {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (message: WorkerMessage) => void, reject });
      send({ ...request, id } as WorkerRequest);
    });
  }

  const trend = async (sn: string): Promise<TrendAnswer | null> => (await ask<Extract<WorkerMessage, { type: "trend" }>>({ type: "trend", sn })).trend;
  const whatIf = async (overrides: SettingsOverride[], only: string[]): Promise<{ whatIf: WhatIfAnswer; baseline: WhatIfAnswer }> =>
    ask<Extract<WorkerMessage, { type: "whatIf" }>>({ type: "whatIf", overrides, only });

  onBeforeUnmount(() => worker.terminate());
  return { summary, progress, parsing, error, parseMs, skipped, open, trend, whatIf };
}
