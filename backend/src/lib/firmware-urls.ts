import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Short-lived download addresses for firmware images: each names one version for one
 * device until a time, signed with the server's key (HMAC-SHA256). A device needs no
 * session to download, and a leaked address stops working when it expires.
 */
export class FirmwareUrls {
  constructor(
    /** Where devices reach this server over HTTPS, e.g. `https://plant.example.com`; undefined: not known. */
    readonly base: string | undefined,
    private readonly key: Buffer,
  ) {}

  url(version: string, sn: string, untilMs: number): string {
    if (!this.base) throw new Error("no public HTTPS address is configured");
    const exp = Math.ceil(untilMs / 1000);
    const query = new URLSearchParams({ sn, exp: String(exp), sig: this.signature(version, sn, exp) });
    return `${this.base.replace(/\/+$/, "")}/api/firmware/${encodeURIComponent(version)}/image?${query}`;
  }

  /** Why the address is refused, or null when it is good now. */
  refusal(version: string, query: { sn: string; exp: number; sig: string }, nowMs: number): string | null {
    const expected = Buffer.from(this.signature(version, query.sn, query.exp));
    const given = Buffer.from(query.sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "the download address is not valid";
    if (query.exp * 1000 <= nowMs) return "the download address has expired: send the ota command again";
    return null;
  }

  private signature(version: string, sn: string, exp: number): string {
    return createHmac("sha256", this.key).update(`${version}\n${sn}\n${exp}`).digest("base64url");
  }
}
