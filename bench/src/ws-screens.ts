import WebSocket from "ws";
import { Histogram, type HistogramData } from "./histogram.ts";
import { serveIpc } from "./ipc.ts";

/**
 * The big screens of `npm run bench:ws` (bench/src/ws-fanout.ts): M WebSocket clients of
 * `/ws/dashboard` in a process of their own, so that parsing frames does not count in the
 * backend's CPU nor delay its event loop. Driven by the orchestrator over IPC.
 *
 * Latency: the publisher writes each value's bus-publish time into its `ppm` as
 * `(publish ms − epoch) mod 50,000` (an integer, so it survives any rounding the backend
 * may do, and a plausible gas value below the 50,000 anomaly limit). The receive time
 * minus the newest such time not after it is the latency; it is right as long as a value
 * arrives within 50 s. Both processes read the same clock (`performance.timeOrigin +
 * performance.now()`: wall-clock based, sub-millisecond).
 */

const now = () => performance.timeOrigin + performance.now();

interface ConnectParams {
  url: string;
  token: string;
  count: number;
  epochMs: number;
  moduloMs: number;
}

interface Screen {
  ws: WebSocket;
  connectedAt: number;
  snapshotAt?: number;
  snapshotItems: number;
  /** The last ppm seen per device: an item repeating it is a resend, not a new value. */
  lastPpm: Map<string, number>;
  realtimeFrames: number;
  alarmFrames: number;
  otherFrames: number;
  bytes: number;
  lastRealtimeAt?: number;
  /** The window's first realtime frame: the rate is (frames − 1) / (last − first), not frames / window (a 20-s window can hold 21 frames 1 s apart). */
  firstRealtimeAt?: number;
  minGapMs: number;
  /** Consecutive realtime frames closer than 900 ms: more than one a second (100 ms for timer jitter). */
  fastGaps: number;
  maxItems: number;
  closed?: string;
}

const screens: Screen[] = [];
let epochMs = 0;
let moduloMs = 50_000;
let realtime = new Histogram();
let alarm = new Histogram();
let windowStart = now();
let repeats = 0;
let undecodable = 0;

/** The publish time encoded in `ppm` (see above), NaN if it is not one of ours. */
function publishTimeOf(ppm: unknown, at: number): number {
  if (typeof ppm !== "number" || !Number.isInteger(ppm) || ppm < 0 || ppm >= moduloMs) return Number.NaN;
  // The newest epoch + k·modulo + ppm not after `at` (5 ms of slack for the two processes' clocks).
  const k = Math.floor((at + 5 - epochMs - ppm) / moduloMs);
  return epochMs + k * moduloMs + ppm;
}

function onFrame(screen: Screen, data: WebSocket.RawData): void {
  const at = now();
  const text = data.toString();
  screen.bytes += text.length;
  let frame: { type?: string; data?: unknown };
  try {
    frame = JSON.parse(text);
  } catch {
    screen.otherFrames++;
    return;
  }
  if (frame.type === "realtime" && Array.isArray(frame.data)) {
    const items = frame.data as { sn?: string; ppm?: unknown }[];
    if (screen.snapshotAt === undefined) {
      // The first realtime frame is the snapshot (every device): not a delta, no latency.
      screen.snapshotAt = at;
      screen.snapshotItems = items.length;
      for (const item of items) if (typeof item.sn === "string" && typeof item.ppm === "number") screen.lastPpm.set(item.sn, item.ppm);
      return;
    }
    screen.realtimeFrames++;
    screen.firstRealtimeAt ??= at;
    if (screen.lastRealtimeAt !== undefined) {
      const gap = at - screen.lastRealtimeAt;
      screen.minGapMs = Math.min(screen.minGapMs, gap);
      if (gap < 900) screen.fastGaps++;
    }
    screen.lastRealtimeAt = at;
    screen.maxItems = Math.max(screen.maxItems, items.length);
    for (const item of items) {
      if (typeof item.sn !== "string") continue;
      if (screen.lastPpm.get(item.sn) === item.ppm) {
        repeats++; // the same value again (e.g. a status change): no new publish to time
        continue;
      }
      if (typeof item.ppm === "number") screen.lastPpm.set(item.sn, item.ppm);
      const sent = publishTimeOf(item.ppm, at);
      if (Number.isNaN(sent)) undecodable++;
      else realtime.record(at - sent);
    }
  } else if (frame.type === "alarm" && frame.data && typeof frame.data === "object") {
    screen.alarmFrames++;
    const sent = publishTimeOf((frame.data as { ppm?: unknown }).ppm, at);
    if (Number.isNaN(sent)) undecodable++;
    else alarm.record(at - sent);
  } else {
    screen.otherFrames++;
  }
}

function open(params: ConnectParams): Promise<Screen> {
  return new Promise((resolve) => {
    const ws = new WebSocket(params.url, { headers: { authorization: `Bearer ${params.token}` }, perMessageDeflate: false });
    const screen: Screen = {
      ws, connectedAt: now(), snapshotItems: 0, lastPpm: new Map(), realtimeFrames: 0, alarmFrames: 0, otherFrames: 0,
      bytes: 0, minGapMs: Number.POSITIVE_INFINITY, fastGaps: 0, maxItems: 0,
    };
    const timer = setTimeout(() => resolve(screen), 20_000);
    ws.on("message", (data) => {
      onFrame(screen, data);
      if (screen.snapshotAt !== undefined) {
        clearTimeout(timer);
        resolve(screen);
      }
    });
    ws.on("unexpected-response", (_request, response) => {
      screen.closed = `HTTP ${response.statusCode} on upgrade`;
      clearTimeout(timer);
      resolve(screen);
    });
    ws.on("error", (error) => {
      screen.closed ??= `error: ${error.message}`;
      clearTimeout(timer);
      resolve(screen);
    });
    ws.on("close", (code, reason) => {
      screen.closed ??= `closed ${code} ${reason.toString()}`;
      clearTimeout(timer);
      resolve(screen);
    });
  });
}

export interface ConnectResult {
  /** Screens open now, and opened by this call. */
  screens: number;
  opened: number;
  withSnapshot: number;
  failures: string[];
  /** Upgrade request → snapshot frame received, ms. */
  snapshotMs: HistogramData;
  snapshotItems: { min: number; max: number };
}

export interface WindowResult {
  seconds: number;
  realtime: HistogramData;
  alarm: HistogramData;
  repeats: number;
  undecodable: number;
  perScreen: { realtimeFrames: number; realtimePerSecond: number; alarmFrames: number; otherFrames: number; bytes: number; minGapMs: number; fastGaps: number; maxItems: number }[];
  closed: string[];
}

serveIpc({
  /** Opens `count` more screens (a few at a time, as wall screens come up) and waits for each one's snapshot. */
  async connect(params: ConnectParams): Promise<ConnectResult> {
    epochMs = params.epochMs;
    moduloMs = params.moduloMs;
    const opened: Screen[] = [];
    for (let i = 0; i < params.count; i += 10) {
      opened.push(...(await Promise.all(Array.from({ length: Math.min(10, params.count - i) }, () => open(params)))));
    }
    screens.push(...opened);
    const snapshot = new Histogram();
    for (const s of opened) if (s.snapshotAt !== undefined) snapshot.record(s.snapshotAt - s.connectedAt);
    const withItems = opened.filter((s) => s.snapshotAt !== undefined).map((s) => s.snapshotItems);
    return {
      screens: screens.length,
      opened: opened.length,
      withSnapshot: withItems.length,
      failures: [...new Set(opened.filter((s) => s.snapshotAt === undefined).map((s) => s.closed ?? "no snapshot within 20 s"))],
      snapshotMs: snapshot.toJSON(),
      snapshotItems: { min: Math.min(...withItems), max: Math.max(...withItems) },
    };
  },
  /** Starts a measurement window: counters and histograms from zero. */
  startWindow(): void {
    realtime = new Histogram();
    alarm = new Histogram();
    repeats = 0;
    undecodable = 0;
    windowStart = now();
    for (const s of screens) {
      Object.assign(s, { firstRealtimeAt: undefined, realtimeFrames: 0, alarmFrames: 0, otherFrames: 0, bytes: 0, minGapMs: Number.POSITIVE_INFINITY, fastGaps: 0, maxItems: 0 });
    }
  },
  readWindow(): WindowResult {
    const seconds = (now() - windowStart) / 1000;
    return {
      seconds,
      realtime: realtime.toJSON(),
      alarm: alarm.toJSON(),
      repeats,
      undecodable,
      perScreen: screens.map((s) => ({
        realtimeFrames: s.realtimeFrames,
        realtimePerSecond:
          s.realtimeFrames >= 2 ? (1000 * (s.realtimeFrames - 1)) / (s.lastRealtimeAt! - s.firstRealtimeAt!) : s.realtimeFrames / seconds,
        alarmFrames: s.alarmFrames, otherFrames: s.otherFrames, bytes: s.bytes,
        minGapMs: Number.isFinite(s.minGapMs) ? s.minGapMs : -1, fastGaps: s.fastGaps, maxItems: s.maxItems,
      })),
      closed: screens.filter((s) => s.closed).map((s) => s.closed!),
    };
  },
  closeAll(): void {
    for (const s of screens) s.ws.terminate();
    screens.length = 0;
  },
});
process.send!({ ready: true });
