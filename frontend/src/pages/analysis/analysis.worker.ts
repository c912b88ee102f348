/// <reference lib="webworker" />
import {
  ArchiveAnalysisBuilder, ArchiveFormatError, createAlarmsParser, createReadingsParser, kindOfHeader, parseManifest,
  type ArchiveAlarm, type ArchiveAnalysis, type ArchiveCsvParser, type ArchiveReading, type WhatIfOutcome,
} from "@mcs/core/analysis";
import { LISTED_ALARMS, type ArchiveSource, type WhatIfAnswer, type WorkerMessage, type WorkerRequest } from "./worker-protocol.ts";

/**
 * Parses archive files off the page's thread: bytes → DecompressionStream("gzip") →
 * TextDecoderStream → the core's row parser, chunk by chunk, with progress. The rows stay
 * here as columns; the page asks for what it shows (a summary, a trend, a replay).
 */
const scope = self as unknown as DedicatedWorkerGlobalScope;
let analysis: ArchiveAnalysis | null = null;

const post = (message: WorkerMessage) => scope.postMessage(message);
const AUDIT_HEADER = "id,at,actor,ip,action,target,before,after";
/** At most this often a progress message: each one costs the page a render. */
const PROGRESS_EVERY_MS = 100;

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  void handle(request).catch((error: unknown) => post({ type: "error", id: "id" in request ? request.id : undefined, message: messageOf(error) }));
};

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case "open":
      return open(request.sources, request.timeZone);
    case "trend":
      post({ type: "trend", id: request.id, trend: analysis?.trend(request.sn, 288 * Math.max(1, analysis.summary.days.length)) ?? null });
      return;
    case "whatIf": {
      if (!analysis) throw new Error("no archive is open");
      post({ type: "whatIf", id: request.id, whatIf: trimmed(analysis.whatIf(request.overrides, request.only)), baseline: trimmed(analysis.whatIf([], request.only)) });
      return;
    }
  }
}

async function open(sources: ArchiveSource[], timeZone: string | undefined): Promise<void> {
  analysis = null;
  const started = performance.now();
  const builder = new ArchiveAnalysisBuilder({ timeZone });
  // Manifests first: they size each device's columns and give the settings.
  const ordered = [...sources].sort((a, b) => Number(!nameOf(a).endsWith(".json")) - Number(!nameOf(b).endsWith(".json")));
  for (const [fileIndex, source] of ordered.entries()) {
    const name = nameOf(source);
    const { body, total } = await bytesOf(source);
    if (name.endsWith(".json")) {
      builder.addManifest(parseManifest(await new Response(body).text(), name));
      continue;
    }
    let bytesRead = 0;
    let lastProgress = 0;
    const progress = () => post({ type: "progress", name, fileIndex, fileCount: ordered.length, bytesRead, bytesTotal: total, rows: builder.readings });
    const counted = body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (bytesRead === 0 && (chunk[0] !== 0x1f || chunk[1] !== 0x8b)) throw new ArchiveFormatError(name, null, "not a gzip file (archive files are .csv.gz)");
        bytesRead += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }));
    // The DOM types want Uint8Array<ArrayBuffer>; a File's and a response's chunks are exactly that.
    const text = (counted as ReadableStream<Uint8Array<ArrayBuffer>>).pipeThrough(new DecompressionStream("gzip")).pipeThrough(new TextDecoderStream("utf-8", { fatal: true }));
    await parseStream(name, text, builder, () => {
      const now = performance.now();
      if (now - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = now;
        progress();
      }
    });
    progress();
  }
  analysis = builder.build();
  post({ type: "summary", summary: analysis.summary, parseMs: Math.round(performance.now() - started) });
}

/** One CSV file's text chunks into the builder; its header says whether it holds readings or alarms. */
async function parseStream(name: string, text: ReadableStream<string>, builder: ArchiveAnalysisBuilder, onChunk: () => void): Promise<void> {
  const reader = text.getReader();
  let parser: ArchiveCsvParser<ArchiveReading> | ArchiveCsvParser<ArchiveAlarm> | null = null;
  let head = "";
  const alarms: ArchiveAlarm[] = [];
  const feed = (rows: (ArchiveReading | ArchiveAlarm)[]) => {
    if (parser?.kind === "alarms") for (const row of rows as ArchiveAlarm[]) alarms.push(row);
    else builder.addReadings(rows as ArchiveReading[]);
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!parser) {
        head += value;
        const newline = head.indexOf("\n");
        if (newline < 0 && head.length < 4096) continue;
        const header = (newline < 0 ? head : head.slice(0, newline)).replace(/\r$/, "");
        if (header === AUDIT_HEADER) {
          post({ type: "note", text: name });
          await reader.cancel();
          return;
        }
        parser = kindOfHeader(header) === "alarms" ? createAlarmsParser(name) : createReadingsParser(name);
        feed(parser.push(head));
      } else {
        feed(parser.push(value));
      }
      onChunk();
    }
    if (!parser) {
      // The whole file was shorter than its first line break.
      parser = kindOfHeader(head) === "alarms" ? createAlarmsParser(name) : createReadingsParser(name);
      feed(parser.push(head));
    }
    feed(parser.end());
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    // DecompressionStream and TextDecoderStream do not say which file they were reading.
    throw error instanceof ArchiveFormatError ? error : new ArchiveFormatError(name, null, error instanceof Error ? error.message : String(error));
  }
  if (parser.kind === "alarms") builder.addAlarms(alarms);
}

async function bytesOf(source: ArchiveSource): Promise<{ body: ReadableStream<Uint8Array>; total: number }> {
  if (source.kind === "file") return { body: source.file.stream(), total: source.file.size };
  const response = await fetch(`/api/archive/object?key=${encodeURIComponent(source.key)}`, { credentials: "same-origin" });
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(`${source.key}: ${response.status} ${body?.error?.message ?? response.statusText}`);
  }
  return { body: response.body, total: Number(response.headers.get("content-length")) || source.bytes };
}

function nameOf(source: ArchiveSource): string {
  return source.kind === "file" ? source.file.name : source.key.split("/").pop() ?? source.key;
}

function trimmed(outcome: WhatIfOutcome): WhatIfAnswer {
  const { result, comparison } = outcome;
  return { counts: result.counts, total: result.total, alarms: result.alarms.slice(0, LISTED_ALARMS), comparison };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
