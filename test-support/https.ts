import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as tlsRequest } from "node:https";
import type { TLSSocket } from "node:tls";

export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as sent (not decompressed: a test sees what nginx put on the wire). */
  body: Buffer;
  /** The TLS version the connection used ("TLSv1.3"), null over plain HTTP. */
  tls: string | null;
}

/**
 * One request that trusts `ca` (the platform's private CA), which global fetch cannot be
 * given. Plain `http:` URLs work too, for the redirect to HTTPS.
 */
export function httpsRequest(
  url: string,
  options: { ca?: string; method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<HttpsAnswer> {
  const request = url.startsWith("http:") ? httpRequest : tlsRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers, ca: options.ca }, (res) => {
      const tls = "getProtocol" in res.socket ? (res.socket as TLSSocket).getProtocol() : null;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), tls });
      });
    });
    req.on("error", reject);
    req.end(options.body);
  });
}
