import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Short-lived download addresses for firmware images: each names one version for one
 * device until a time, signed with the server's key (HMAC-SHA256). A device needs no
 * session to download, and a leaked address stops working when it expires.
 */
export class FirmwareUrls {
  private key: Promise<Buffer> | undefined;

  constructor(
    /** Where devices reach this server over HTTPS, e.g. `https://plant.example.com`; undefined: not known. */
    readonly base: string | undefined,
    /** The signing key, read when first needed (the app starts even while the database is away). */
    private readonly loadKey: () => Promise<Buffer>,
  ) {}

  async url(version: string, sn: string, untilMs: number): Promise<string> {
    return (await this.signer())(version, sn, untilMs);
  }

  /** A synchronous signer, for signing many addresses inside one transaction. */
  async signer(): Promise<(version: string, sn: string, untilMs: number) => string> {
    const key = await this.keyOnce();
    const base = this.base;
    if (!base) throw new Error("no public HTTPS address is configured");
    return (version, sn, untilMs) => {
      const exp = Math.ceil(untilMs / 1000);
      const query = new URLSearchParams({ sn, exp: String(exp), sig: signature(key, version, sn, exp) });
      return `${base.replace(/\/+$/, "")}/api/firmware/${encodeURIComponent(version)}/image?${query}`;
    };
  }

  /** Why the address is refused, or null when it is good now. */
  async refusal(version: string, query: { sn: string; exp: number; sig: string }, nowMs: number): Promise<string | null> {
    const expected = Buffer.from(signature(await this.keyOnce(), version, query.sn, query.exp));
    const given = Buffer.from(query.sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "the download address is not valid";
    if (query.exp * 1000 <= nowMs) return "the download address has expired: send the ota command again";
    return null;
  }

  private keyOnce(): Promise<Buffer> {
    // A failed read is not kept: the next request tries again.
    this.key ??= this.loadKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }
}

function signature(key: Buffer, version: string, sn: string, exp: number): string {
  return createHmac("sha256", key).update(`${version}\n${sn}\n${exp}`).digest("base64url");
}
