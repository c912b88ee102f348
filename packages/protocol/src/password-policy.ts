// The minimum strength of a person's password, applied wherever one is set through the API
// (a new user, an admin's reset, a user's own change). Pure and self-contained (no imports),
// so that the browser can run the same check before it submits a form.

export const PASSWORD_MIN_LENGTH = 10;
/** Of lower-case letters, upper-case letters, digits and anything else. */
export const PASSWORD_MIN_CLASSES = 3;

export type PasswordProblemCode = "too_short" | "too_few_classes" | "contains_username" | "too_common";

/** Why a password is refused: a stable code (the frontend translates by it) and an English message. */
export interface PasswordProblem {
  code: PasswordProblemCode;
  message: string;
}

/** The commonest passwords of 10 characters or more (lower-cased), as leaked lists and local habit have them. */
const COMMON_PASSWORDS = new Set([
  "1234567890", "0123456789", "0987654321", "12345678910", "123456789a", "a123456789", "a1234567890", "123456789q", "q123456789",
  "1111111111", "0000000000", "8888888888", "88888888888", "888888888888", "6666666666", "5201314520", "1314520520",
  "password12", "password123", "password1234", "password12345", "password123456", "password!!", "passw0rd123", "p@ssw0rd123", "p@ssword123",
  "admin12345", "admin123456", "admin1234567", "admin@1234", "admin@12345", "admin@123456", "administrator", "administrator1",
  "qwertyuiop", "qwerty1234", "qwerty12345", "qwerty123456", "qwertyuiop1", "qwertyuiop123", "qwe123qwe123", "1q2w3e4r5t", "1q2w3e4r5t6y",
  "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "1qaz@wsx3edc", "1qaz@wsx#edc", "1qaz!qaz2wsx", "zaq12wsxcde3", "zaq1zaq1zaq1", "1qazxsw23edc",
  "asdfghjkl1", "asdfghjkl123", "zxcvbnm123", "zxcvbnm1234", "iloveyou12", "iloveyou123", "woaini1314", "woaini520", "woaini5201314",
  "abcd123456", "abc1234567", "abc123456789", "aa123456789", "a1b2c3d4e5", "welcome123", "welcome1234", "letmein123", "changeme123",
  "sunshine12", "football12", "baseball12", "dragon1234", "monkey1234", "princess12", "starwars12", "computer12", "trustno1trustno1",
]);

/** Words that stay weak with digits or symbols around them ("Admin@2024", "Password1234!"). */
const COMMON_WORDS = new Set([
  "password", "passw0rd", "p@ssw0rd", "p@ssword", "pass", "admin", "administrator", "root", "user", "test", "guest", "qwerty", "qwertyuiop",
  "asdf", "asdfgh", "asdfghjkl", "zxcvbnm", "abc", "abcd", "abcdef", "iloveyou", "welcome", "letmein", "changeme", "woaini", "monkey",
  "dragon", "sunshine", "football", "master", "hello", "login", "system", "manager", "mcs", "mcsiot", "mcs-iot",
]);

function classesOf(password: string): number {
  let lower = false;
  let upper = false;
  let digit = false;
  let other = false;
  for (const char of password) {
    if (/\p{Ll}/u.test(char)) lower = true;
    else if (/\p{Lu}/u.test(char)) upper = true;
    else if (/[0-9]/.test(char)) digit = true;
    // Symbols, spaces, Chinese and other scripts without case.
    else other = true;
  }
  return Number(lower) + Number(upper) + Number(digit) + Number(other);
}

function isCommon(password: string): boolean {
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return true;
  // A common word with digits or symbols before or after it.
  const word = lower.replace(/^[^\p{L}]+/u, "").replace(/[^\p{L}]+$/u, "");
  if (COMMON_WORDS.has(word)) return true;
  // One short unit repeated ("Aa1!Aa1!Aa1!", "abcabcabcabc").
  return /^(.{1,4})\1+$/su.test(password);
}

/**
 * The first reason `password` is too weak for the user `username`, or null when it is
 * strong enough: at least 10 characters; at least 3 of lower-case, upper-case, digits and
 * other characters (a Chinese character counts as other); not containing the username
 * (case-insensitive, for usernames of 3 characters or more); not one of the commonest
 * passwords or a common word decorated with digits and symbols.
 */
export function passwordProblem(password: string, username = ""): PasswordProblem | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) {
    return { code: "too_short", message: `must be at least ${PASSWORD_MIN_LENGTH} characters long` };
  }
  const name = username.trim().toLowerCase();
  if (name.length >= 3 && password.toLowerCase().includes(name)) {
    return { code: "contains_username", message: "must not contain the username" };
  }
  if (isCommon(password)) {
    return { code: "too_common", message: "is too common (a well-known password, a common word with digits added, or a repeated pattern); choose another" };
  }
  if (classesOf(password) < PASSWORD_MIN_CLASSES) {
    return {
      code: "too_few_classes",
      message: `must mix at least ${PASSWORD_MIN_CLASSES} of: lower-case letters, upper-case letters, digits, other characters (symbols, spaces, Chinese…)`,
    };
  }
  return null;
}
