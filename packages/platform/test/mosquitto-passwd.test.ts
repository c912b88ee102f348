import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startMosquitto, type MosquittoInstance } from "../../../test-support/mosquitto.ts";
import { formatPasswordFile, hashMosquittoPassword, verifyMosquittoPassword } from "../src/broker/mosquitto-passwd.ts";

// Written by `mosquitto_passwd` 2.0.11 (Debian 12): `-c -b` (the default, sha512-pbkdf2) and `-H sha512`.
const FROM_MOSQUITTO_PASSWD = {
  pbkdf2: { password: "tok-3f9c2a7e-long-random", hash: "$7$101$zUQwR6DH5qyri8Sb$J2xjPCaMt4jtRi5NOTnZal817u57Grpn8Ckf8e/LFJZZEnDojwZsOCglKSiMueq4a0QvD3X8rX/B0NoeYoTu+A==" },
  sha512: { password: "another token", hash: "$6$y2zHNnSEJ78RFzQY$VZ8gvi56DDDeR+qu7X/aj++gAzjo918GtWmOmr1NdGJi+VU9heFUilALg86180nQUkdzPTGqmTfnUnMnXFo6AA==" },
};

describe("Mosquitto password hashes", () => {
  it("writes $7$ hashes as mosquitto_passwd 2.x does: PBKDF2-SHA512, 101 iterations, 12-byte salt, 64-byte key", () => {
    const hash = hashMosquittoPassword("secret");
    const [empty, scheme, iterations, salt, key, ...rest] = hash.split("$");
    expect({ empty, scheme, iterations, rest }).toEqual({ empty: "", scheme: "7", iterations: "101", rest: [] });
    expect(Buffer.from(salt!, "base64")).toHaveLength(12);
    expect(Buffer.from(key!, "base64")).toHaveLength(64);
    expect(verifyMosquittoPassword("secret", hash)).toBe(true);
  });

  it("salts every hash, so one password never gives the same hash twice", () => {
    const a = hashMosquittoPassword("same");
    const b = hashMosquittoPassword("same");
    expect(a).not.toBe(b);
    expect(verifyMosquittoPassword("same", a) && verifyMosquittoPassword("same", b)).toBe(true);
  });

  it("verifies hashes written by mosquitto_passwd 2.0.11, both $7$ and the older $6$", () => {
    for (const { password, hash } of Object.values(FROM_MOSQUITTO_PASSWD)) {
      expect(verifyMosquittoPassword(password, hash)).toBe(true);
      expect(verifyMosquittoPassword(password + "x", hash)).toBe(false);
    }
  });

  it("verifies a hash the installed mosquitto_passwd makes now", () => {
    const dir = mkdtempSync(join(tmpdir(), "mcs-passwd-"));
    try {
      const file = join(dir, "passwd");
      execFileSync("mosquitto_passwd", ["-c", "-b", file, "A001", "a long random device token"]);
      const [username, hash] = readFileSync(file, "utf8").trim().split(":") as [string, string];
      expect(username).toBe("A001");
      expect(verifyMosquittoPassword("a long random device token", hash)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a wrong password, an empty one, a malformed hash and an unknown scheme", () => {
    const hash = hashMosquittoPassword("right");
    expect(verifyMosquittoPassword("wrong", hash)).toBe(false);
    expect(verifyMosquittoPassword("", hash)).toBe(false);
    for (const bad of ["", "right", "$7$101$onlysalt", "$7$abc$c2FsdA==$a2V5", "$7$101$c2FsdA==$", "$5$c2FsdA==$a2V5", hash + "$extra", hash.replace("$7$", "$6$")]) {
      expect(verifyMosquittoPassword("right", bad)).toBe(false);
    }
  });
});

describe("Mosquitto password file", () => {
  it("writes one username:hash line per entry, in order", () => {
    const entries = [
      { username: "A001", hash: hashMosquittoPassword("one") },
      { username: "mcs-worker", hash: FROM_MOSQUITTO_PASSWD.sha512.hash },
    ];
    expect(formatPasswordFile(entries)).toBe(`A001:${entries[0]!.hash}\nmcs-worker:${entries[1]!.hash}\n`);
    expect(formatPasswordFile([])).toBe("");
  });

  it("refuses what Mosquitto could not read back: a colon or line break in a username, an empty or repeated username, a hash it does not know", () => {
    const hash = hashMosquittoPassword("x");
    expect(() => formatPasswordFile([{ username: "a:b", hash }])).toThrow(/cannot be written/);
    expect(() => formatPasswordFile([{ username: "a\nb", hash }])).toThrow(/cannot be written/);
    expect(() => formatPasswordFile([{ username: "", hash }])).toThrow(/cannot be written/);
    expect(() => formatPasswordFile([{ username: "A001", hash }, { username: "A001", hash }])).toThrow(/twice/);
    expect(() => formatPasswordFile([{ username: "A001", hash: "plaintext" }])).toThrow(/not a Mosquitto/);
  });

  describe("on the real Mosquitto 2.0.11", () => {
    let broker: MosquittoInstance | undefined;
    afterAll(async () => {
      await broker?.stop();
    });

    it("lets a user whose hash this module wrote log in, and refuses a wrong password", async () => {
      // startMosquitto writes its password file with formatPasswordFile and hashMosquittoPassword.
      broker = await startMosquitto({ users: { A001: "device token 1", "mcs-worker": "worker token" } });
      const publish = (user: string, password: string) =>
        spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(broker!.plainPort), "-u", user, "-P", password, "-t", `mcs/${user}/up`, "-m", "{}", "-q", "1"], { encoding: "utf8" });
      expect(publish("A001", "device token 1").status).toBe(0);
      const refused = publish("A001", "device token 2");
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/not authori[sz]ed/i);
    });
  });
});
