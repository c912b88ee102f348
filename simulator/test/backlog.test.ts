import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Backlog, FileFlash, MemoryFlash, type Flash } from "../src/index.ts";

const reading = (seq: number) => ({ ts: 1_750_000_000 + seq * 10, seq, v_raw: seq / 10, err: 0 });
const seqs = (backlog: Backlog, max = 10_000) => backlog.peek(max).map((e) => e.reading.seq);

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "mcs-flash-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe.each([
  ["in memory", () => new MemoryFlash() as Flash],
  ["in files", () => new FileFlash(tempDir()) as Flash],
])("the offline backlog, flash %s", (_name, makeFlash) => {
  it("keeps up to its capacity in order", () => {
    const backlog = new Backlog(makeFlash(), 1000);
    for (let seq = 1; seq <= 1000; seq++) expect(backlog.push(reading(seq))).toBe(0);
    expect(backlog.size).toBe(1000);
    expect(backlog.dropped).toBe(0);
    expect(seqs(backlog)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it("beyond its capacity drops the oldest and counts them: 1200 in, the newest 1000 kept, 200 dropped", () => {
    const backlog = new Backlog(makeFlash(), 1000);
    for (let seq = 1; seq <= 1200; seq++) backlog.push(reading(seq));
    expect(backlog.size).toBe(1000);
    expect(backlog.dropped).toBe(200);
    expect(seqs(backlog)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 201));
  });

  it("removes exactly the entries an acknowledged batch carried, even when newer ones arrived meanwhile", () => {
    const backlog = new Backlog(makeFlash(), 1000);
    for (let seq = 1; seq <= 10; seq++) backlog.push(reading(seq));
    const batch = backlog.peek(4);
    backlog.push(reading(11));
    backlog.ackThrough(batch.at(-1)!.index);
    expect(seqs(backlog)).toEqual([5, 6, 7, 8, 9, 10, 11]);
  });

  it("is read back from flash after a reboot, with its dropped count", () => {
    const flash = makeFlash();
    const before = new Backlog(flash, 1000);
    for (let seq = 1; seq <= 1100; seq++) before.push(reading(seq));
    before.ackThrough(before.peek(300).at(-1)!.index);
    const after = new Backlog(flash, 1000);
    expect(after.size).toBe(700);
    expect(after.dropped).toBe(100);
    expect(seqs(after)).toEqual(Array.from({ length: 700 }, (_, i) => i + 401));
    after.push(reading(2000));
    expect(seqs(after).at(-1)).toBe(2000);
  });

  it("stays correct across many compactions of its journal", () => {
    const flash = makeFlash();
    const backlog = new Backlog(flash, 10);
    for (let seq = 1; seq <= 500; seq++) {
      backlog.push(reading(seq));
      if (seq % 3 === 0) backlog.ackThrough(backlog.peek(2).at(-1)!.index);
    }
    const again = new Backlog(flash, 10);
    expect(seqs(again)).toEqual(seqs(backlog));
    expect(again.dropped).toBe(backlog.dropped);
  });
});

describe("the flash files", () => {
  it("ignore a torn last line, as after a power cut in the middle of a write", () => {
    const dir = tempDir();
    const backlog = new Backlog(new FileFlash(dir), 1000);
    for (let seq = 1; seq <= 5; seq++) backlog.push(reading(seq));
    appendFileSync(join(dir, "backlog.jsonl"), '{"i":6,"r":{"ts":17500');
    expect(seqs(new Backlog(new FileFlash(dir), 1000))).toEqual([1, 2, 3, 4, 5]);
  });

  it("journal one line per change (the flash is never behind RAM)", () => {
    const dir = tempDir();
    const backlog = new Backlog(new FileFlash(dir), 1000);
    backlog.push(reading(1));
    backlog.push(reading(2));
    backlog.ackThrough(backlog.peek(1)[0]!.index);
    const lines = readFileSync(join(dir, "backlog.jsonl"), "utf8").trim().split("\n");
    expect(lines.slice(1).map((line) => Object.keys(JSON.parse(line)).join())).toEqual(["i,r", "i,r", "a"]);
  });
});
