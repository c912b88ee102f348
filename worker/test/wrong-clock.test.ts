import { describe, expect, it } from "vitest";
import { parseMessage } from "../src/processor/parse-message.ts";

// Issue 11: a detector whose clock is wrong still measures gas. Its readings are kept at the
// time the server received them, their own time beside them, in their order: never dropped.
const NOW = Date.parse("2026-12-03T10:00:00Z");
const nowS = NOW / 1000;
const up = (body: unknown) => parseMessage("mcs/CLK-1/up", Buffer.from(JSON.stringify(body)), NOW);
const reading = (ts: number, seq: number) => ({ ts, seq, v_raw: 1 + seq / 10 });

describe("readings with a wrong clock", () => {
  it("keeps a live reading dated 1970 at its receive time, its own time beside it", () => {
    expect(up(reading(30, 7))).toEqual({ kind: "up", sn: "CLK-1", dead: [], readings: [expect.objectContaining({ ts: nowS, deviceTs: 30, seq: 7 })] });
  });

  it("keeps one an hour and more ahead the same way", () => {
    expect(up(reading(nowS + 7200, 1))).toMatchObject({ readings: [{ ts: nowS, deviceTs: nowS + 7200 }] });
  });

  it("keeps a backlog's order and its own spacing, ending at the receive time", () => {
    const parsed = up([reading(30, 1), reading(40, 2), reading(50, 3)]);
    expect(parsed).toMatchObject({ readings: [{ ts: nowS - 20, deviceTs: 30 }, { ts: nowS - 10, deviceTs: 40 }, { ts: nowS, deviceTs: 50 }] });
  });

  it("spaces a backlog whose clock ran backwards one second apart, in the order sent", () => {
    const parsed = up([reading(50, 1), reading(20, 2), reading(30, 3)]);
    expect(parsed).toMatchObject({ readings: [{ ts: nowS - 2, seq: 1 }, { ts: nowS - 1, seq: 2 }, { ts: nowS, seq: 3 }] });
  });

  it("leaves readings with a good time as they are beside those with a wrong one (a clock reset during the backlog)", () => {
    const good = nowS - 3600;
    const parsed = up([reading(good, 1), reading(good + 10, 2), reading(5, 3), reading(15, 4)]);
    expect(parsed).toMatchObject({ readings: [{ ts: good, seq: 1 }, { ts: good + 10, seq: 2 }, { ts: nowS - 10, deviceTs: 5 }, { ts: nowS, deviceTs: 15 }] });
    expect(parsed.kind === "up" && parsed.readings[0]).not.toHaveProperty("deviceTs");
  });
});
