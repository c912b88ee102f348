import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as it arrived (signatures are over these bytes). */
  body: string;
}

/** What the fake vendor answers; `hang` never answers (for timeouts). */
export type Answer = { status?: number; json?: unknown; text?: string } | "hang";

export interface LocalHttpServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  port: number;
  requests: ReceivedRequest[];
  /** Replaced by each test: how the fake vendor answers. */
  answer: (request: ReceivedRequest) => Answer;
  close(): Promise<void>;
}

/** A real HTTP server on a free loopback port, standing in for a vendor's API. */
export async function startLocalHttpServer(): Promise<LocalHttpServer> {
  const requests: ReceivedRequest[] = [];
  const state: LocalHttpServer = {
    origin: "",
    port: 0,
    requests,
    answer: () => ({ status: 200, json: {} }),
    close: () => closeServer(server),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: ReceivedRequest = {
        method: req.method ?? "",
        url: new URL(req.url ?? "/", state.origin),
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(request);
      const answer = state.answer(request);
      if (answer === "hang") return;
      const body = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.text ?? "");
      res.writeHead(answer.status ?? 200, { "content-type": answer.json !== undefined ? "application/json;charset=utf-8" : "text/plain" });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  state.origin = `http://127.0.0.1:${state.port}`;
  return state;
}

function closeServer(server: Server): Promise<void> {
  // A request left hanging by a timeout test would otherwise keep close() waiting.
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

/** A loopback port nothing listens on (taken, then released), for "connection refused". */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
