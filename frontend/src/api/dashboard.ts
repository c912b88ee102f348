import { AlarmFrameSchema, RealtimeItemSchema, type AlarmFrame, type RealtimeItem } from "@mcs/protocol";

/**
 * The big screen's live feed: `/ws/dashboard` (DESIGN.md). The first `realtime` frame after
 * connecting is the snapshot of every device; later ones are deltas (at most one a second);
 * `alarm` frames come at once. The connection is never left to die quietly: it reconnects
 * with exponential backoff and jitter (1 s → 30 s), every new connection starts again from
 * a fresh snapshot, and a connection that is open but silent for too long is treated as
 * lost (a half-open TCP connection looks open for minutes).
 */

/** Close codes the server uses (besides the standard ones). */
export const CLOSE_CODES = {
  /** No session, or a token that is not (or no longer) valid: do not retry. */
  unauthenticated: 4401,
  /** The kiosk token was revoked by an admin: do not retry. */
  kioskRevoked: 4001,
  /** The client read too slowly (RFC 6455 "try again later"): reconnect. */
  tryAgainLater: 1013,
  /** This client's own: the connection stayed silent (no frame, no pong) too long and was dropped. */
  silent: 4000,
  /** This client's own: a quiet connection replaced by a fresh one (at once, not a loss). */
  refresh: 4002,
} as const;

export type ConnectionState =
  /** Opening a socket (the first time, or again after a loss). */
  | "connecting"
  /** Open, and the snapshot has arrived: what the screen shows is live. */
  | "live"
  /** Lost; the next attempt is scheduled (`retryAt`). */
  | "waiting"
  /** The server refused us for good (4401, 4001): no retry. */
  | "denied";

export interface DashboardHandlers {
  /** Every device's state: replaces what the screen holds (the first frame of each connection). */
  snapshot(items: RealtimeItem[]): void;
  /** Devices that changed. */
  realtime(items: RealtimeItem[]): void;
  alarm(data: AlarmFrame["data"]): void;
  /** The connection changed (also called for the `retryAt`/`attempt` of a new wait). */
  state?(state: ConnectionState, detail: ConnectionDetail): void;
}

export interface ConnectionDetail {
  /** The close code of the last loss (0 while none). */
  code: number;
  /** Failed attempts since the last live connection. */
  attempt: number;
  /** Epoch ms of the next attempt, while waiting. */
  retryAt: number | null;
}

export interface DashboardOptions {
  /** A kiosk's token (`?token=`); without it, the session cookie goes with the request. */
  token?: string | null;
  /** Silence after which an open connection counts as lost (ms). */
  silenceMs?: number;
  /** How often a `ping` is sent, which a server may answer with a `pong` (ms). */
  pingMs?: number;
  /** A server that does not answer pings: a connection silent this long is replaced by a fresh one (ms). */
  refreshMs?: number;
  /** Backoff bounds (ms). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** `ws(s)://<this host>/ws/dashboard[?token=…]` */
export function dashboardUrl(token?: string | null, location: Pick<Location, "protocol" | "host"> = window.location): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  return `${scheme}://${location.host}/ws/dashboard${query}`;
}

/** Full jitter on an exponential step: [d/2, d) with d = min(max, min × 2^attempt). */
export function backoffDelay(attempt: number, minMs = 1000, maxMs = 30_000, random = Math.random): number {
  const step = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt));
  return Math.round(step / 2 + random() * (step / 2));
}

/** The valid items of a realtime frame: a malformed item is skipped, never the whole frame. */
function realtimeItems(data: unknown): RealtimeItem[] {
  if (!Array.isArray(data)) return [];
  const items: RealtimeItem[] = [];
  for (const item of data) {
    const parsed = RealtimeItemSchema.safeParse(item);
    if (parsed.success) items.push(parsed.data);
  }
  return items;
}

export class DashboardConnection {
  private socket: WebSocket | null = null;
  private stopped = true;
  private attempt = 0;
  private lastCode = 0;
  private snapshotSeen = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private watchTimer: ReturnType<typeof setInterval> | undefined;
  private current: ConnectionState = "connecting";
  /** Epoch ms of the last frame (or pong) from the server; 0 before any. */
  lastMessageAt = 0;
  private attemptStartedAt = 0;
  private openedAt = 0;
  /** Epoch ms the server last answered the HTTP probe of a silent connection. */
  private probedAt = 0;
  /** Whether the server answered a ping on this connection (then silence is proof of loss). */
  private pongSeen = false;
  private readonly silenceMs: number;
  private readonly pingMs: number;
  private readonly refreshMs: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly handlers: DashboardHandlers, private readonly options: DashboardOptions = {}) {
    this.silenceMs = options.silenceMs ?? 10_000;
    this.pingMs = options.pingMs ?? 5_000;
    this.refreshMs = options.refreshMs ?? 30_000;
    this.minDelayMs = options.minDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
  }

  get state(): ConnectionState {
    return this.current;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.retryNow);
    this.watchTimer = setInterval(() => this.watch(), 1000);
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.retryNow);
    clearTimeout(this.retryTimer);
    clearInterval(this.watchTimer);
    this.drop(1000, "screen closed");
  }

  /** Gives up waiting and connects now (the network came back, or the user asked). */
  readonly retryNow = (): void => {
    if (this.stopped || this.current !== "waiting") return;
    clearTimeout(this.retryTimer);
    this.open();
  };

  private setState(state: ConnectionState, retryAt: number | null = null): void {
    this.current = state;
    this.handlers.state?.(state, { code: this.lastCode, attempt: this.attempt, retryAt });
  }

  private open(): void {
    this.snapshotSeen = false;
    this.pongSeen = false;
    this.openedAt = 0;
    this.probedAt = 0;
    this.setState("connecting");
    let socket: WebSocket;
    try {
      socket = new WebSocket(dashboardUrl(this.options.token));
    } catch {
      this.lost(1006);
      return;
    }
    this.socket = socket;
    this.attemptStartedAt = Date.now();
    socket.onopen = () => {
      // Silence is measured from the opening on, not from the previous connection's last frame.
      this.openedAt = Date.now();
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.lastMessageAt = Date.now();
      if (event.data === "pong" || (typeof event.data === "string" && event.data.startsWith('{"type":"pong"'))) this.pongSeen = true;
      this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.lost(event.code);
    };
    // An error is always followed by a close, which decides.
    socket.onerror = () => {};
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let frame: { type?: unknown; data?: unknown };
    try {
      frame = JSON.parse(data) as { type?: unknown; data?: unknown };
    } catch {
      return;
    }
    if (frame.type === "realtime") {
      const items = realtimeItems(frame.data);
      if (!this.snapshotSeen) {
        this.snapshotSeen = true;
        this.attempt = 0;
        this.lastCode = 0;
        this.handlers.snapshot(items);
        this.setState("live");
      } else {
        this.handlers.realtime(items);
      }
    } else if (frame.type === "alarm") {
      const parsed = AlarmFrameSchema.safeParse(frame);
      if (parsed.success) this.handlers.alarm(parsed.data.data);
    }
    // "pong" and anything unknown: proof of life only.
  }

  private lost(code: number): void {
    this.lastCode = code;
    if (this.stopped) return;
    if (code === CLOSE_CODES.unauthenticated || code === CLOSE_CODES.kioskRevoked) {
      this.setState("denied");
      return;
    }
    // A refresh reconnects at once; too slow comes back soon (a fresh snapshot), not after a long backoff.
    const delay =
      code === CLOSE_CODES.refresh ? 0
      : code === CLOSE_CODES.tryAgainLater ? backoffDelay(0, this.minDelayMs, this.maxDelayMs)
      : backoffDelay(this.attempt, this.minDelayMs, this.maxDelayMs);
    if (code !== CLOSE_CODES.refresh) this.attempt += 1;
    const retryAt = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.open();
    }, delay);
    this.setState("waiting", retryAt);
  }

  /**
   * Every second: a ping now and then, and an open connection that went silent is checked.
   * A server that answers pings (`{"type":"pong"}`) must answer within the silence limit, or
   * the connection is lost. One that does not (a quiet plant sends no deltas) is asked over
   * HTTP whether it is there at all: no answer, lost; an answer, and the WebSocket itself is
   * proven again by a fresh connection (and snapshot) after `refreshMs` of silence, so that a
   * half-open socket never shows a frozen screen as live for longer than that.
   */
  private tick = 0;
  private watch(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      // Stuck opening (no answer at all): give up on this attempt.
      if (socket && socket.readyState === WebSocket.CONNECTING && Date.now() - this.attemptStartedAt > this.silenceMs) this.drop(CLOSE_CODES.silent, "no answer");
      return;
    }
    this.tick += 1;
    if (this.pingMs > 0 && this.tick % Math.max(1, Math.round(this.pingMs / 1000)) === 0) {
      try {
        socket.send(JSON.stringify({ type: "ping", t: Date.now() }));
      } catch {
        // A failing send is followed by a close.
      }
    }
    const now = Date.now();
    const silentFor = now - Math.max(this.lastMessageAt, this.openedAt);
    if (silentFor <= this.silenceMs) return;
    if (this.pongSeen) this.drop(CLOSE_CODES.silent, "silent");
    else if (silentFor > this.refreshMs) this.drop(CLOSE_CODES.refresh, "quiet: fresh snapshot");
    else if (now - this.probedAt > this.silenceMs) void this.probe(socket);
  }

  private probing = false;
  private async probe(socket: WebSocket): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    let reachable = false;
    try {
      // Any answer at all means the server is there; only no answer in time means lost.
      await fetch("/api/health", { cache: "no-store", signal: AbortSignal.timeout(Math.min(4000, this.silenceMs)) });
      reachable = true;
    } catch {
      reachable = false;
    } finally {
      this.probing = false;
    }
    if (socket !== this.socket) return;
    if (reachable) this.probedAt = Date.now();
    else this.drop(CLOSE_CODES.silent, "silent");
  }

  /** Closes the socket and, unless stopped, schedules the next attempt as for a loss. */
  private drop(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
      } catch {
        // Already closing.
      }
    }
    if (!this.stopped) this.lost(code);
  }
}
