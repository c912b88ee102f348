import { sign, verify, type KeyObject } from "node:crypto";

/** What the guard sends the vendor's license server. */
export interface CheckRequest {
  license_id: string;
  fingerprint: string;
  /** Fresh for every check: an answer must repeat it, so an old answer cannot be replayed. */
  nonce: string;
}

/** The vendor's word on a license, signed with the same key as the license files. */
export interface CheckAnswer extends CheckRequest {
  status: "valid" | "revoked" | "unknown";
  /** The server's time (ISO 8601): a local clock far from it is not trusted. */
  time: string;
}

export interface SignedCheckAnswer {
  answer: CheckAnswer;
  signature: string;
}

/** How far the server's time and ours may differ before ours is doubted. */
export const CHECK_CLOCK_TOLERANCE_MS = 10 * 60_000;

export function signCheckAnswer(answer: CheckAnswer, privateKey: KeyObject): SignedCheckAnswer {
  return { answer, signature: sign(null, Buffer.from(JSON.stringify(answer), "utf8"), privateKey).toString("base64") };
}

export type CheckVerdict = { ok: true; answer: CheckAnswer } | { ok: false; reason: string };

/**
 * Accepts the server's answer only if the vendor signed it for this request (same license,
 * machine and nonce) and its time agrees with ours: a forged, replayed or misdirected
 * answer, or a clock far off, is refused with the reason.
 */
export function verifyCheckAnswer(body: unknown, options: { publicKey: KeyObject; request: CheckRequest; now: number }): CheckVerdict {
  if (typeof body !== "object" || body === null) return { ok: false, reason: "answer: not a JSON object" };
  const { answer, signature } = body as Partial<SignedCheckAnswer>;
  if (typeof answer !== "object" || answer === null || typeof signature !== "string") return { ok: false, reason: "answer: expected the fields answer and signature" };
  const canonical = { license_id: answer.license_id, fingerprint: answer.fingerprint, nonce: answer.nonce, status: answer.status, time: answer.time };
  let genuine = false;
  try {
    const bytes = Buffer.from(signature, "base64");
    genuine = bytes.toString("base64") === signature && JSON.stringify(canonical) === JSON.stringify(answer) && verify(null, Buffer.from(JSON.stringify(answer), "utf8"), options.publicKey, bytes);
  } catch {
    genuine = false;
  }
  if (!genuine) return { ok: false, reason: "answer: not signed by the vendor (forged or altered)" };
  if (answer.nonce !== options.request.nonce) return { ok: false, reason: "answer: for another request (replayed)" };
  if (answer.license_id !== options.request.license_id || answer.fingerprint !== options.request.fingerprint) return { ok: false, reason: "answer: for another license or machine" };
  if (!["valid", "revoked", "unknown"].includes(answer.status)) return { ok: false, reason: `answer: unknown status ${JSON.stringify(answer.status)}` };
  const time = Date.parse(answer.time);
  if (Number.isNaN(time)) return { ok: false, reason: "answer: no time" };
  if (Math.abs(time - options.now) > CHECK_CLOCK_TOLERANCE_MS) {
    return { ok: false, reason: `clock: the server's time is ${answer.time}, ours ${new Date(options.now).toISOString()}` };
  }
  return { ok: true, answer };
}
