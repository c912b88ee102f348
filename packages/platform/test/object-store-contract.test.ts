import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { digestOf, FolderObjectStore, S3ObjectStore, type ObjectStore } from "../src/index.ts";
import { startLocalS3, type LocalS3 } from "../../../test-support/s3rver.ts";
import { beforeAllOrFail } from "../../../test-support/suite-setup.ts";

const folders: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "mcs-objects-"));
  folders.push(dir);
  return dir;
};
afterAll(() => folders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

// The ObjectStore port: the archive's two targets keep one contract.
describe.each(["folder", "s3"] as const)("ObjectStore contract (%s)", (kind) => {
  let s3: LocalS3 | undefined;
  let store: ObjectStore;
  beforeAllOrFail(async () => {
    if (kind === "s3") {
      s3 = await startLocalS3();
      store = new S3ObjectStore(s3.config("contract/"));
    } else {
      store = new FolderObjectStore(join(temp(), "archive"));
    }
  });
  afterAll(async () => {
    await store?.close();
    await s3?.close();
  });

  it("puts, heads, reads back and overwrites an object", async () => {
    expect(await store.head("archive/2025/12/a.csv.gz")).toBeNull();
    expect(await store.get("archive/2025/12/a.csv.gz")).toBeNull();
    expect(await store.getStream("archive/2025/12/a.csv.gz")).toBeNull();
    await store.put("archive/2025/12/a.csv.gz", Buffer.from("first"));
    await store.put("archive/2025/12/a.csv.gz", Buffer.from("second one"));
    expect((await store.get("archive/2025/12/a.csv.gz"))?.toString()).toBe("second one");
    expect(await store.head("archive/2025/12/a.csv.gz")).toMatchObject({ key: "archive/2025/12/a.csv.gz", bytes: 10 });
  });

  it("uploads a file larger than a multipart part, streamed, and reads it back byte for byte", async () => {
    const file = join(temp(), "big.bin");
    const body = randomBytes(9 * 1024 * 1024 + 123);
    writeFileSync(file, body);
    await store.putFile("archive/2025/12/big.bin", file, "application/octet-stream");
    expect((await store.head("archive/2025/12/big.bin"))?.bytes).toBe(body.length);
    const back = await digestOf((await store.getStream("archive/2025/12/big.bin"))!);
    expect(back).toEqual(await digestOf((await import("node:fs")).createReadStream(file)));
  }, 60_000);

  it("lists by prefix in key order, and deletes (a missing object too)", async () => {
    await store.put("archive/2025/11/z.txt", Buffer.from("z"));
    await store.put("other/x.txt", Buffer.from("x"));
    const keys = (await store.list("archive/")).map((object) => object.key);
    expect(keys).toEqual(["archive/2025/11/z.txt", "archive/2025/12/a.csv.gz", "archive/2025/12/big.bin"]);
    await store.delete("archive/2025/11/z.txt");
    await store.delete("archive/2025/11/never-there.txt");
    expect((await store.list("archive/2025/11/")).map((object) => object.key)).toEqual([]);
    expect((await store.list("other/"))[0]).toMatchObject({ key: "other/x.txt", bytes: 1 });
  });
});

describe("FolderObjectStore", () => {
  it("refuses keys that would leave its folder, and never shows half-written files", async () => {
    const root = join(temp(), "archive");
    const store = new FolderObjectStore(root);
    for (const key of ["../escape", "/etc/passwd", "a//b", "a/./b", ""]) await expect(store.put(key, Buffer.from("x"))).rejects.toThrow(/not a plain relative path/);
    await store.put("archive/ok.txt", Buffer.from("ok"));
    writeFileSync(join(root, "archive", "ok.txt.123.456.partial"), "half");
    expect((await store.list("")).map((object) => object.key)).toEqual(["archive/ok.txt"]);
    expect(readdirSync(join(root, "archive")).sort()).toEqual(["ok.txt", "ok.txt.123.456.partial"]);
  });
});
