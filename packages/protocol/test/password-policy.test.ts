import { describe, expect, it } from "vitest";
import { PASSWORD_MIN_LENGTH, passwordProblem } from "../src/password-policy.ts";

const codeOf = (password: string, username = "operator1") => passwordProblem(password, username)?.code ?? null;

describe("the password policy", () => {
  it("accepts passwords of 10+ characters with 3 of 4 classes", () => {
    for (const ok of ["Tank7-farm-Valve", "blue Kettle 42", "Zx9!kq2mLp", "gas-leak-99-sensor", "Tr0ub4dor&3x"]) expect(codeOf(ok)).toBeNull();
  });

  it("refuses fewer than 10 characters (counted as characters, not bytes): too_short", () => {
    expect(passwordProblem("Ab1!Ab1!a", "x")).toEqual({ code: "too_short", message: "must be at least 10 characters long" });
    expect(codeOf("Ab1!Ab1!ab")).toBeNull();
    // 9 Chinese characters are 27 bytes of UTF-8, still 9 characters.
    expect(codeOf("安全第一气体监测好")).toBe("too_short");
    expect(PASSWORD_MIN_LENGTH).toBe(10);
  });

  it("refuses fewer than 3 of lower, upper, digits, other: too_few_classes", () => {
    expect(codeOf("horsebatterystaple")).toBe("too_few_classes");
    expect(codeOf("horsebattery2024")).toBe("too_few_classes");
    expect(codeOf("HORSE-BATTERY")).toBe("too_few_classes");
    expect(codeOf("correct horse battery")).toBe("too_few_classes");
    expect(passwordProblem("9173402865", "x")?.message).toMatch(/at least 3 of: lower-case letters, upper-case letters, digits, other characters/);
  });

  it("counts Chinese characters as 'other'", () => {
    expect(codeOf("安全生产gas2024")).toBeNull(); // other + lower + digit
    expect(codeOf("安全生产安全生产安全")).toBe("too_few_classes"); // one class only
  });

  it("refuses a password containing the username, whatever the case: contains_username", () => {
    expect(passwordProblem("My-Engineer-2024", "engineer")).toEqual({ code: "contains_username", message: "must not contain the username" });
    expect(codeOf("xxZHANGWEIxx-9", "zhangwei")).toBe("contains_username");
    // Too short a username to be meaningful inside a password.
    expect(codeOf("Lift-Alarm-77", "li")).toBeNull();
  });

  it("refuses the commonest passwords and common words dressed up with digits: too_common", () => {
    for (const common of ["password1234", "Password1234", "admin123456", "Admin@123456", "qwertyuiop", "Qwerty123456", "1qaz2wsx3edc", "1qaz@WSX3edc", "8888888888", "P@ssw0rd2024!", "Woaini1314!"]) {
      expect(codeOf(common), common).toBe("too_common");
    }
    expect(passwordProblem("Welcome2025!", "x")?.message).toMatch(/too common/);
  });

  it("refuses a short unit repeated: too_common", () => {
    expect(codeOf("Aa1!Aa1!Aa1!")).toBe("too_common");
    expect(codeOf("xY7xY7xY7xY7")).toBe("too_common");
  });

  it("answers the first reason in a fixed order: length, username, commonness, classes", () => {
    expect(codeOf("admin", "admin")).toBe("too_short");
    expect(codeOf("admin123456", "admin")).toBe("contains_username");
    expect(codeOf("password1234", "bob")).toBe("too_common");
  });
});
