import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { formatZoned } from "@mcs/core";
import { cacheKeys } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import type { NotificationDispatcher } from "../src/alarms/notification-dispatcher.ts";
import { startExclusiveJob, type ExclusiveJob } from "../src/lib/exclusive-job.ts";
import { DispatcherHarness, overriding } from "./support/dispatcher-fixtures.ts";

// The notification dispatcher on its own (server/test/alarm-center.test.ts covers it end to
// end over MQTT: one message per alarm, debounce, working hours, repeats, escalation, storms).
// Here: what an operator checks when a receiver misbehaves — the outbox rows (status,
// attempts, detail) and what a real webhook receiver, checking X-MCS-Signature, got.
// Time is a fake clock; the backoff is walked through by moving it, never by sleeping.
// Monday 2026-03-02 09:15:00.5 in Shanghai (half a second into the second on purpose).
const START = Date.parse("2026-03-02T01:15:00.500Z");
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();
const actor = { name: "test" };

describe.each(MODES)("the notification dispatcher (%s mode)", (mode) => {
  let h: DispatcherHarness;
  beforeAll(async () => {
    h = await DispatcherHarness.open(mode, START);
  });
  afterEach(async () => {
    h.receiver.release();
    await h.dropChannels();
  });
  afterAll(async () => {
    await h?.close();
  });

  const rows = (alarmId: number) => h.outbox.forAlarm(alarmId);
  const snsIn = (path: string) => h.receiver.to(path).map((delivery) => delivery.body.alarms.map((alarm) => alarm.sn));
  /** A device with a channel that hears only it (and the devices given), answering as told. */
  const setup = async (path: string, names: string[], rules: Parameters<DispatcherHarness["channel"]>[1] = {}) => {
    const sns = names.map((name) => h.sn(name));
    for (const sn of sns) await h.device(sn);
    const channel = await h.channel(path, { sns, ...rules });
    return { sns, channel };
  };
  /** Moves the clock to just before `ms` from now (nothing may happen) and then to it (it must). */
  const waitFor = async (dispatcher: NotificationDispatcher, path: string, ms: number) => {
    const before = h.receiver.to(path).length;
    h.clock.advance(ms - 1);
    await dispatcher.run();
    expect(h.receiver.to(path), `nothing is re-sent before ${ms / SECOND} s`).toHaveLength(before);
    h.clock.advance(1);
    await dispatcher.run();
    expect(h.receiver.to(path), `it is re-sent after ${ms / SECOND} s`).toHaveLength(before + 1);
  };

  describe("retries", () => {
    it("retries a receiver answering 500 after 10 s, 20 s, 40 s…, the row pending with the error, then sent when it recovers", async () => {
      const path = "/retry";
      h.receiver.answer(path, 500);
      const { sns: [sn], channel } = await setup(path, ["RETRY-1"]);
      const id = (await h.reading(sn!, 20))!;
      const dispatcher = h.dispatcher();

      await dispatcher.run();
      expect(h.receiver.to(path)).toHaveLength(1);
      expect(await rows(id)).toEqual([
        expect.objectContaining({ channel_id: channel.id, kind: "raised", status: "pending", attempts: 1, finished_at: null, detail: "Webhook answered HTTP 500: upstream down" }),
      ]);
      for (const [seconds, attempts] of [[10, 2], [20, 3], [40, 4]] as const) {
        await waitFor(dispatcher, path, seconds * SECOND);
        expect(await rows(id)).toEqual([expect.objectContaining({ status: "pending", attempts, finished_at: null, detail: "Webhook answered HTTP 500: upstream down" })]);
      }

      h.receiver.answer(path, 200);
      await waitFor(dispatcher, path, 80 * SECOND);
      expect(await rows(id)).toEqual([expect.objectContaining({ status: "sent", attempts: 5, finished_at: iso(h.clock.now()), detail: "Webhook answered HTTP 200: {}" })]);
      // Every attempt was the same signed message; once sent, nothing more.
      expect(h.receiver.to(path).map((d) => ({ signed: d.signed, event: d.body.event, ids: d.body.alarms.map((a) => a.id) }))).toEqual(
        Array(5).fill({ signed: true, event: "alarm.raised", ids: [id] }),
      );
      h.clock.advance(HOUR);
      await dispatcher.run();
      expect(h.receiver.to(path)).toHaveLength(5);
      expect(dispatcher.stats).toEqual({ sent: 1, failed: 0, suppressed: 0, retrying: 4 });
    });

    it("gives up after 10 failed attempts, the waits growing to at most 30 min: the row is failed with the last answer", async () => {
      const path = "/down";
      h.receiver.answer(path, 500);
      const { sns: [sn] } = await setup(path, ["RETRY-2"]);
      const id = (await h.reading(sn!, 20))!;
      const dispatcher = h.dispatcher();

      await dispatcher.run();
      // 10, 20, 40 … 1280 s, then capped at 1800 s.
      const waits = [10, 20, 40, 80, 160, 320, 640, 1280, 1800];
      for (const [i, seconds] of waits.entries()) {
        expect(await rows(id)).toEqual([expect.objectContaining({ status: "pending", attempts: i + 1 })]);
        await waitFor(dispatcher, path, seconds * SECOND);
      }
      expect(h.receiver.to(path)).toHaveLength(10);
      expect(await rows(id)).toEqual([
        expect.objectContaining({ status: "failed", attempts: 10, finished_at: iso(h.clock.now()), detail: "Webhook answered HTTP 500: upstream down" }),
      ]);
      h.clock.advance(2 * HOUR);
      await dispatcher.run();
      expect(h.receiver.to(path)).toHaveLength(10);
    });

    it("fails at once, without a retry, when the receiver answers 400 (a wrong configuration)", async () => {
      const path = "/misconfigured";
      h.receiver.answer(path, 400);
      const { sns: [sn] } = await setup(path, ["WRONG-1"]);
      const id = (await h.reading(sn!, 20))!;
      const dispatcher = h.dispatcher();

      await dispatcher.run();
      expect(await rows(id)).toEqual([
        expect.objectContaining({ status: "failed", attempts: 1, finished_at: iso(h.clock.now()), detail: "Webhook answered HTTP 400: invalid token" }),
      ]);
      h.clock.advance(HOUR);
      await dispatcher.run();
      expect(h.receiver.to(path)).toHaveLength(1);
      expect(dispatcher.stats).toMatchObject({ failed: 1, retrying: 0 });
    });

    it("does not debounce a second alarm when nobody was told of the first (its send failed)", async () => {
      const path = "/failed-first";
      h.receiver.answer(path, 400);
      const { sns: [sn] } = await setup(path, ["FAILED-FIRST-1"]);
      const dispatcher = h.dispatcher();
      const first = await h.raiseAndClose(sn!, 20);
      await dispatcher.run();
      expect(await rows(first)).toEqual([expect.objectContaining({ status: "failed" })]);
      h.receiver.answer(path, 200);
      h.clock.advance(2 * MINUTE);
      const second = (await h.reading(sn!, 24))!;
      await dispatcher.run();
      expect(await rows(second)).toEqual([expect.objectContaining({ status: "sent" })]);
    });

    // A grouped message's rows keep their own attempt counts.
    it("gives a new alarm its own 10 attempts even when it goes out with a row on its last one", async () => {
      const path = "/late";
      h.receiver.answer(path, 500);
      const { sns: [old, fresh] } = await setup(path, ["LATE-1", "LATE-2"]);
      const oldId = (await h.reading(old!, 20))!;
      const dispatcher = h.dispatcher();
      await dispatcher.run();
      for (const seconds of [10, 20, 40, 80, 160, 320, 640, 1280]) {
        h.clock.advance(seconds * SECOND);
        await dispatcher.run();
      }
      expect(await rows(oldId)).toEqual([expect.objectContaining({ status: "pending", attempts: 9 })]);
      // The old row is due again just as a new alarm comes: both go in one message, which fails.
      h.clock.advance(1800 * SECOND);
      const freshId = (await h.reading(fresh!, 20))!;
      await dispatcher.run();
      expect(h.receiver.to(path).at(-1)!.body.alarms.map((a) => a.id)).toEqual([oldId, freshId]);
      expect(await rows(oldId)).toEqual([expect.objectContaining({ status: "failed", attempts: 10 })]);
      // Its first attempt: it must wait and be tried again, not fail with the old row.
      expect(await rows(freshId)).toEqual([expect.objectContaining({ status: "pending", attempts: 1 })]);
    });
  });

  describe("a channel's minimum interval", () => {
    it("holds alarms that come within min_interval_s and sends them as ONE grouped message after it", async () => {
      const path = "/interval";
      const { sns: [a, b, c] } = await setup(path, ["GROUP-A", "GROUP-B", "GROUP-C"], { min_interval_s: 60 });
      const dispatcher = h.dispatcher();

      await h.reading(a!, 20);
      await dispatcher.run();
      expect(h.receiver.to(path).map((d) => d.body.event)).toEqual(["alarm.raised"]);

      h.clock.advance(10 * SECOND);
      const second = (await h.reading(b!, 21))!;
      await dispatcher.run();
      expect(h.receiver.to(path)).toHaveLength(1);
      expect(await rows(second)).toEqual([expect.objectContaining({ status: "pending", attempts: 0, detail: null })]);

      h.clock.advance(20 * SECOND);
      const third = (await h.reading(c!, 22))!;
      await dispatcher.run();
      h.clock.advance(29 * SECOND); // 59 s after the first message
      await dispatcher.run();
      expect(h.receiver.to(path)).toHaveLength(1);

      h.clock.advance(1 * SECOND);
      await dispatcher.run();
      expect(snsIn(path)).toEqual([[a], [b, c]]);
      const grouped = h.receiver.to(path)[1]!;
      expect(grouped.signed).toBe(true);
      expect(grouped.body).toMatchObject({ event: "alarm.group", alarms: [{ id: second, kind: "raised", ppm: 21 }, { id: third, kind: "raised", ppm: 22 }] });
      // Several alarms: no single sn/type/level at the top level.
      expect(grouped.body).not.toHaveProperty("sn");
      for (const id of [second, third]) expect(await rows(id)).toEqual([expect.objectContaining({ status: "sent", attempts: 1, finished_at: iso(h.clock.now()) })]);
    });

    // The last message's time keeps its milliseconds (a Date from the driver, not Date.parse).
    it("holds the next message back for the whole interval, to the millisecond", async () => {
      const path = "/interval-ms";
      const { sns: [a, b] } = await setup(path, ["EXACT-A", "EXACT-B"], { min_interval_s: 60 });
      const dispatcher = h.dispatcher();
      await h.reading(a!, 20);
      await dispatcher.run(); // at hh:mm:ss.5
      h.clock.advance(10 * SECOND);
      await h.reading(b!, 21);
      h.clock.advance(49_600); // 59.6 s after the first message
      await dispatcher.run();
      expect(h.receiver.to(path)).toHaveLength(1);
    });
  });

  describe("with Redis away", () => {
    it("still debounces within this dispatcher: the same device and type within 10 min is suppressed, another device is sent", async () => {
      const path = "/no-redis";
      const { sns: [one, two] } = await setup(path, ["NOREDIS-1", "NOREDIS-2"]);
      const down = async (): Promise<never> => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:6379");
      };
      const dispatcher = h.dispatcher({ cache: overriding(h.cache, { set: down, get: down }) });

      const first = await h.raiseAndClose(one!, 20);
      await expect(dispatcher.run()).resolves.toBeUndefined();
      h.clock.advance(2 * MINUTE);
      const again = (await h.reading(one!, 24))!;
      const other = (await h.reading(two!, 25))!;
      await expect(dispatcher.run()).resolves.toBeUndefined();

      expect(await rows(first)).toEqual([expect.objectContaining({ status: "sent" })]);
      expect(await rows(again)).toEqual([
        expect.objectContaining({ status: "suppressed", attempts: 0, detail: `debounced: ${one} HIGH was notified within 10 min` }),
      ]);
      expect(await rows(other)).toEqual([expect.objectContaining({ status: "sent" })]);
      expect(snsIn(path)).toEqual([[one], [two]]);

      // The window is 10 min on the dispatcher's clock: after it, the device is heard again.
      h.clock.advance(10 * MINUTE);
      await h.ack(one!, "HIGH");
      await h.reading(one!, 0);
      const later = (await h.reading(one!, 26))!;
      await expect(dispatcher.run()).resolves.toBeUndefined();
      expect(await rows(later)).toEqual([expect.objectContaining({ status: "sent" })]);
      expect(snsIn(path)).toEqual([[one], [two], [one]]);
      expect(dispatcher.stats).toMatchObject({ sent: 3, suppressed: 1 });
    });
  });

  describe("as the worker runs it", () => {
    const twoWorkers = (everyMs: number, runs: { now: number; most: number }) => {
      const job = (dispatcher: NotificationDispatcher) =>
        startExclusiveJob({
          cache: h.cache, name: "notify", everyMs,
          run: async () => {
            runs.most = Math.max(runs.most, ++runs.now);
            try {
              await dispatcher.run();
            } finally {
              runs.now--;
            }
          },
        });
      // Two dispatchers over the same database and cache, as in two worker processes.
      return [job(h.dispatcher()), job(h.dispatcher())] as const;
    };

    it("never runs two workers' 'notify' jobs at the same time: the alarm is sent once", async () => {
      const path = "/slow";
      h.receiver.answer(path, "hang");
      const { sns: [sn] } = await setup(path, ["JOB-1"]);
      const id = (await h.reading(sn!, 20))!;
      await h.cache.del(cacheKeys.lock("notify"));
      const runs = { now: 0, most: 0 };
      const jobs: readonly ExclusiveJob[] = twoWorkers(HOUR, runs);
      try {
        const first = jobs[0]!.tick();
        // The first worker's pass is in the middle of sending (the receiver has not answered).
        await expect.poll(() => h.receiver.to(path).length).toBe(1);
        expect(await jobs[1]!.tick()).toBe(false);
        h.receiver.release();
        expect(await first).toBe(true);
      } finally {
        for (const job of jobs) await job.stop();
      }
      expect(runs.most).toBe(1);
      expect(h.receiver.to(path)).toHaveLength(1);
      expect(await rows(id)).toEqual([expect.objectContaining({ status: "sent", attempts: 1 })]);
    });

    // The lock is renewed while a pass lasts, however long a slow receiver makes it.
    it("keeps the second worker out while a pass outlasts the lock's TTL (the worker's default 2 s rounds)", async () => {
      const path = "/slower";
      h.receiver.answer(path, "hang");
      const { sns: [sn] } = await setup(path, ["JOB-2"]);
      await h.reading(sn!, 20);
      await h.cache.del(cacheKeys.lock("notify"));
      const runs = { now: 0, most: 0 };
      const jobs: readonly ExclusiveJob[] = twoWorkers(2_000, runs);
      try {
        const first = jobs[0]!.tick();
        await expect.poll(() => h.receiver.to(path).length).toBe(1);
        // A receiver slow to answer (up to the 10 s send timeout): the 1 s lock expires meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        const second = jobs[1]!.tick();
        await Promise.race([second, expect.poll(() => h.receiver.to(path).length).toBe(2)]).catch(() => {});
        h.receiver.release();
        await Promise.all([first, second]);
        expect(runs.most).toBe(1);
        expect(h.receiver.to(path)).toHaveLength(1);
      } finally {
        h.receiver.release();
        for (const job of jobs) await job.stop();
      }
    });
  });

  describe("channels that change", () => {
    it("routes nothing new to a disabled channel", async () => {
      const sn = h.sn("DISABLED-1");
      await h.device(sn);
      await h.channel("/disabled", { sns: [sn], enabled: false });
      const enabled = await h.channel("/enabled", { sns: [sn] });
      const id = (await h.reading(sn, 20))!;
      expect(await rows(id)).toEqual([expect.objectContaining({ channel_id: enabled.id, status: "pending" })]);
      await h.dispatcher().run();
      expect(snsIn("/enabled")).toEqual([[sn]]);
      expect(h.receiver.to("/disabled")).toEqual([]);
    });

    it("sends nothing more to a channel disabled while its rows waited: they are closed as suppressed", async () => {
      const path = "/disabled-later";
      h.receiver.answer(path, 500);
      const { sns: [sn], channel } = await setup(path, ["DISABLED-2"]);
      const id = (await h.reading(sn!, 20))!;
      const dispatcher = h.dispatcher();
      await dispatcher.run();
      await h.channels.update(channel.id, { enabled: false }, actor, (c) => c.name, h.clock.now());
      await h.channelCache.reload();
      h.receiver.answer(path, 200);
      h.clock.advance(HOUR);
      await dispatcher.run();
      expect(await rows(id)).toEqual([expect.objectContaining({ status: "suppressed", detail: "channel disabled" })]);
      expect(h.receiver.to(path)).toHaveLength(1);
    });

    it("closes a deleted channel's pending rows (kept as the alarm's history) and still sends the other channels' in the same pass", async () => {
      h.receiver.answer("/deleted", 500);
      const [a, b] = [h.sn("DELETED-1"), h.sn("DELETED-2")];
      for (const sn of [a, b]) await h.device(sn);
      const doomed = await h.channel("/deleted", { sns: [a, b] });
      const kept = await h.channel("/kept", { sns: [a, b] });
      const dispatcher = h.dispatcher();
      const first = (await h.reading(a, 20))!;
      await dispatcher.run();
      expect(await rows(first)).toEqual([
        expect.objectContaining({ channel_id: doomed.id, status: "pending", attempts: 1 }),
        expect.objectContaining({ channel_id: kept.id, status: "sent" }),
      ]);
      const second = (await h.reading(b, 20))!;
      expect(await rows(second)).toHaveLength(2);

      // Deleted meanwhile; this worker's channel cache still lists it (the change message not yet in).
      expect(await h.channels.delete(doomed.id, actor, (c) => c.name)).toBe(true);
      expect(h.channelCache.current().some((c) => c.id === doomed.id)).toBe(true);
      const gone = expect.objectContaining({ channel_id: null, status: "suppressed", detail: "channel deleted" });
      expect(await rows(first)).toEqual([gone, expect.objectContaining({ channel_id: kept.id, status: "sent" })]);
      expect(await rows(second)).toEqual([gone, expect.objectContaining({ channel_id: kept.id, status: "pending" })]);

      h.clock.advance(10 * SECOND);
      await expect(dispatcher.run()).resolves.toBeUndefined();
      expect(await rows(second)).toEqual([gone, expect.objectContaining({ channel_id: kept.id, status: "sent", attempts: 1 })]);
      expect(snsIn("/kept")).toEqual([[a], [b]]);
      expect(h.receiver.to("/deleted")).toHaveLength(1);
    });
  });

  describe("the message", () => {
    it("names sn, type, level, ppm, the limit, the unit and the device name in the signed JSON", async () => {
      const path = "/content";
      const sn = h.sn("CH4-L2");
      await h.device(sn, { name: "Boiler room north", gas: "CH4", unit: "%LEL", high_limit: 25, high_limit_2: 50, deadband: 2 });
      await h.channel(path, { sns: [sn] });
      const raisedAt = h.clock.now();
      const id = (await h.reading(sn, 62.5))!;
      h.clock.advance(1_500);
      await h.dispatcher().run();

      const [delivery, ...more] = h.receiver.to(path);
      expect(more).toEqual([]);
      expect(delivery).toEqual({
        path,
        signed: true,
        timestamp: String(Math.floor(h.clock.now() / SECOND)),
        body: {
          event: "alarm.raised",
          sent_at: iso(h.clock.now()),
          title: expect.stringContaining("Boiler room north"),
          text: expect.stringContaining("62.5 %LEL (limit 50 %LEL)"),
          time_zone: "Asia/Shanghai",
          link: "https://mcs.example/alarms",
          sn, type: "HIGH", level: 2, ppm: 62.5,
          alarms: [
            {
              id, sn, device_name: "Boiler room north", gas: "CH4", type: "HIGH", level: 2, kind: "raised",
              ppm: 62.5, unit: "%LEL", limit: 50, at: iso(raisedAt), reason: "value 62.5 > level 2 limit 50",
              late: false, peak_ppm: 62.5, peak_at: iso(raisedAt),
            },
          ],
        },
      });
      expect(await rows(id)).toEqual([expect.objectContaining({ status: "sent", detail: "Webhook answered HTTP 200: {}" })]);
    });

    // Issue 15, item 4: the plant's zone (the setting) is the message's clock, read once per pass.
    it("writes its times in the plant's zone, read once per pass; a zone that cannot be read falls back to Asia/Shanghai", async () => {
      const sn = h.sn("TZ");
      await h.device(sn);
      await h.channel("/zone", { sns: [sn] });
      let reads = 0;
      const berlin = h.dispatcher({ plantTimeZone: async () => (reads++, "Europe/Berlin") });
      const raisedAt = h.clock.now();
      const first = (await h.reading(sn, 40))!;
      h.clock.advance(1_500);
      await berlin.run();
      expect(reads).toBe(1);
      // Early March: Berlin is UTC+1, seven hours behind Shanghai.
      const [sent] = h.receiver.to("/zone");
      expect(sent!.body.time_zone).toBe("Europe/Berlin");
      expect(sent!.body.text).toContain(` · ${formatZoned(raisedAt, "Europe/Berlin")} · `);
      expect(formatZoned(raisedAt, "Asia/Shanghai")).not.toBe(formatZoned(raisedAt, "Europe/Berlin"));
      expect(sent!.body.text).toContain("Times are Europe/Berlin time (UTC+1)");
      expect(await rows(first)).toEqual([expect.objectContaining({ status: "sent" })]);

      const other = h.sn("TZ-FALLBACK");
      await h.device(other);
      await h.channel("/zone-fallback", { sns: [other] });
      const broken = h.dispatcher({ plantTimeZone: async () => { throw new Error("database away"); } });
      const second = (await h.reading(other, 40))!;
      h.clock.advance(1_500);
      await broken.run();
      const [fallback] = h.receiver.to("/zone-fallback");
      expect(fallback!.body.time_zone).toBe("Asia/Shanghai");
      expect(fallback!.body.text).toContain("Times are Asia/Shanghai time (UTC+8)");
      expect(await rows(second)).toEqual([expect.objectContaining({ status: "sent" })]);
    });
  });
});
