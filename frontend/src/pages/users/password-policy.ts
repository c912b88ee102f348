import { PASSWORD_MIN_LENGTH, passwordProblem } from "@mcs/protocol";
import { ApiError } from "../../api/http.ts";
import { i18n } from "../../i18n/index.ts";

/** The same policy the server applies (@mcs/protocol), run before the form is sent. */
export { PASSWORD_MIN_LENGTH };

const t = i18n.global.t;

/** A server's reason about a password field, in the user's language where it is known. */
export function passwordReason(reason: string): string {
  if (/must differ from the current password/.test(reason)) return t("passwordPolicy.same");
  if (/wrong password/.test(reason)) return t("passwordPolicy.wrongCurrent");
  return reason;
}

/**
 * What the browser checks before sending: present, the policy (length, classes, not the
 * username, not a common password — translated by its code), typed the same twice.
 */
export function newPasswordProblems(password: string, repeat: string, username = ""): { password?: string; repeat?: string } {
  if (!password) return { password: t("passwordPolicy.required") };
  const problem = passwordProblem(password, username);
  if (problem) return { password: t(`passwordPolicy.${problem.code}`) };
  if (password !== repeat) return { repeat: t("passwordPolicy.mismatch") };
  return {};
}

/** The API's refusal of a password field (`body.<field>: …`), translated; null when it is about something else. */
export function passwordFieldError(error: unknown, field: string): string | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const reason = error.fieldErrors[field];
  return reason === undefined ? null : passwordReason(reason);
}

/**
 * A strong random password an admin can hand over (16 characters of lower, upper, digits and
 * symbols, without look-alikes such as 0/O and 1/l).
 */
export function generatePassword(): string {
  const sets = ["abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!#%+-=?_"];
  const all = sets.join("");
  const random = new Uint32Array(16);
  crypto.getRandomValues(random);
  const chars = [...random].map((value, index) => {
    const set = index < sets.length ? sets[index]! : all;
    return set[value % set.length]!;
  });
  // The first four (one of each kind) go to random places.
  const order = new Uint32Array(chars.length);
  crypto.getRandomValues(order);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = order[i]! % (i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join("");
}
