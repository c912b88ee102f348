import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeAudit } from "@mcs/platform";
import type { Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

interface Row {
  at: string;
  actor: string;
  ip: string | null;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

/** A day of changes in 2024, far from the rows the test setup writes now. */
const ROWS: Row[] = [
  { at: "2024-03-01T01:00:00Z", actor: "alice", ip: "10.0.0.1", action: "device.create", target: "A001", before: null, after: { sn: "A001", k: 1 } },
  { at: "2024-03-01T02:00:00Z", actor: "alice", ip: "10.0.0.1", action: "device.update", target: "A001", before: { k: 1 }, after: { k: 1.1 } },
  { at: "2024-03-01T03:00:00Z", actor: "Bob", ip: "10.0.0.2", action: "user.create", target: "zhang.wei", before: null, after: { username: "zhang.wei", role: "viewer" } },
  { at: "2024-03-01T04:00:00Z", actor: "bob", ip: "10.0.0.2", action: "user.password.reset", target: "zhang.wei", before: null, after: { password_changed_at: "2024-03-01T04:00:00Z" } },
  { at: "2024-03-01T05:00:00Z", actor: "carol", ip: null, action: "channel.update", target: 'webhook "ops", east', before: { name: "ops" }, after: { name: "ops, east" } },
  { at: "2024-03-01T06:00:00Z", actor: "carol", ip: "10.0.0.3", action: "device.update", target: '=HYPERLINK("http://x")', before: null, after: { note: "零点校准 +3 %" } },
  { at: "2024-03-01T07:00:00Z", actor: "alice", ip: "10.0.0.1", action: "users.import", target: "batch", before: null, after: null },
  { at: "2024-03-01T08:00:00Z", actor: "dave", ip: "10.0.0.4", action: "device.update", target: "50%_gas", before: null, after: null },
];
const DAY = "from=2024-03-01T00:00:00Z&to=2024-03-02T00:00:00Z";

describe.each(MODES)("GET /api/audit and /api/audit/export.csv (%s mode)", (mode) => {
  let t: TestApp;
  const get = async (url: string, role: Role | null = "admin") => t.app.inject({ method: "GET", url, ...(role && { headers: await t.as(role) }) });
  const page = async (query: string) => {
    const res = await get(`/api/audit?${query}`);
    expect(res.statusCode).toBe(200);
    return res.json<{ data: (Row & { id: number })[]; total: number }>();
  };
  /** The 1-based numbers (in ROWS) of the rows answered. */
  const numbers = (data: { at: string; target: string }[]) => data.map((row) => ROWS.findIndex((r) => new Date(r.at).toISOString() === row.at && r.target === row.target) + 1);

  beforeAll(async () => {
    t = await buildTestApp(mode);
    for (const row of ROWS) {
      await t.ports.db.query(
        `INSERT INTO audit_log (at, actor, ip, action, target, before, after) VALUES ($1::timestamptz, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb)`,
        [row.at, row.actor, row.ip, row.action, row.target, JSON.stringify(row.before), JSON.stringify(row.after)],
      );
    }
  });
  afterAll(async () => t.close());

  describe("who may call", () => {
    it.each(["/api/audit", "/api/audit/export.csv"])("%s without a session → 401", async (url) => {
      expectError(await get(url, null), 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
    });
    it.each((["engineer", "operator", "viewer"] as const).flatMap((role) => ["/api/audit", "/api/audit/export.csv"].map((url) => ({ url, role }))))(
      "$url as $role → 403",
      async ({ url, role }) => {
        expectError(await get(url, role), 403, "MCS_ERR_FORBIDDEN", `this needs the role admin; you are ${role}`);
      },
    );
  });

  describe("GET /api/audit", () => {
    it("answers {data, total}, newest first, each with who, when, from where, what, before and after", async () => {
      const all = await page("");
      const [{ n }] = (await t.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`)) as [{ n: number }];
      expect(all.total).toBe(n);
      expect(all.data.map((row) => row.id)).toEqual([...all.data.map((row) => row.id)].sort((a, b) => b - a));
      const day = await page(DAY);
      expect(numbers(day.data)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
      expect(day.data.at(-2)).toEqual({ id: expect.any(Number), ...ROWS[1], at: "2024-03-01T02:00:00.000Z" });
    });

    it("filters by actor (exact, any case)", async () => {
      expect(numbers((await page(`${DAY}&actor=ALICE`)).data)).toEqual([7, 2, 1]);
      expect(numbers((await page(`${DAY}&actor=bob`)).data)).toEqual([4, 3]);
      expect((await page(`${DAY}&actor=ali`)).total).toBe(0);
    });

    it("filters by action: exact, or a family by its prefix (user matches user.password.reset, not users.import)", async () => {
      expect(numbers((await page(`${DAY}&action=device.update`)).data)).toEqual([8, 6, 2]);
      expect(numbers((await page(`${DAY}&action=user`)).data)).toEqual([4, 3]);
      expect(numbers((await page(`${DAY}&action=user.password`)).data)).toEqual([4]);
      expect((await page(`${DAY}&action=device.up`)).total).toBe(0);
    });

    it("filters by target (exact, any case)", async () => {
      expect(numbers((await page(`${DAY}&target=ZHANG.WEI`)).data)).toEqual([4, 3]);
      expect(numbers((await page(`${DAY}&target=${encodeURIComponent('webhook "ops", east')}`)).data)).toEqual([5]);
    });

    it("searches q in the target, action and actor, case-insensitively; % and _ are plain characters", async () => {
      expect(numbers((await page(`${DAY}&q=Zhang`)).data)).toEqual([4, 3]);
      expect(numbers((await page(`${DAY}&q=PASSWORD`)).data)).toEqual([4]);
      expect(numbers((await page(`${DAY}&q=CAROL`)).data)).toEqual([6, 5]);
      expect(numbers((await page(`${DAY}&q=${encodeURIComponent("%")}`)).data)).toEqual([8]);
      expect(numbers((await page(`${DAY}&q=_`)).data)).toEqual([8]);
      expect(numbers((await page(`${DAY}&q=bob&action=user.create`)).data)).toEqual([3]);
    });

    it("filters by time: from (inclusive) and to (exclusive), as ISO-8601 or Unix seconds", async () => {
      const s = (iso: string) => Date.parse(iso) / 1000;
      expect(numbers((await page(`from=${s("2024-03-01T02:00:00Z")}&to=${s("2024-03-01T04:00:00Z")}`)).data)).toEqual([3, 2]);
      expect(numbers((await page(`from=2024-03-01T07:00:00%2B08:00&to=2024-03-01T01:00:01Z`)).data)).toEqual([1]);
    });

    it("pages with limit and offset; total counts every match", async () => {
      expect(await page(`${DAY}&limit=3`)).toMatchObject({ total: 8 });
      expect(numbers((await page(`${DAY}&limit=3`)).data)).toEqual([8, 7, 6]);
      expect(numbers((await page(`${DAY}&limit=3&offset=3`)).data)).toEqual([5, 4, 3]);
      expect(await page(`${DAY}&offset=100`)).toEqual({ data: [], total: 8 });
    });

    it("refuses bad queries: 400 naming the parameter", async () => {
      expectError(await get("/api/audit?from=2024-03-02T00:00:00Z&to=2024-03-01T00:00:00Z"), 400, "MCS_ERR_VALIDATION", "query.from: 2024-03-02T00:00:00.000Z is after query.to 2024-03-01T00:00:00.000Z");
      expectError(await get("/api/audit?from=yesterday"), 400, "MCS_ERR_VALIDATION", /^query\.from: expected ISO-8601 or Unix seconds/);
      expectError(await get("/api/audit?limit=0"), 400, "MCS_ERR_VALIDATION", /^query\.limit/);
      expectError(await get("/api/audit?limit=5000"), 400, "MCS_ERR_VALIDATION", /^query\.limit/);
      expectError(await get("/api/audit?offset=-1"), 400, "MCS_ERR_VALIDATION", /^query\.offset/);
      expectError(await get("/api/audit?q="), 400, "MCS_ERR_VALIDATION", /^query\.q/);
    });

    it("never holds a secret, whatever a writer passes", async () => {
      await writeAudit(t.ports.db, {
        actor: "test",
        action: "secret.check",
        target: "s1",
        before: { password: "p-1", password_hash: "scrypt$x", new_password: "p-2", current_password: "p-3" },
        after: { mqtt_password: "p-4", secret: "p-5", client_secret: "p-6", access_token: "p-7", password_changed_at: "2024-01-01T00:00:00Z", role: "viewer" },
      });
      const res = await get("/api/audit?action=secret.check");
      expect(res.json<{ data: Row[] }>().data[0]).toMatchObject({ before: {}, after: { password_changed_at: "2024-01-01T00:00:00Z", role: "viewer" } });
      expect(res.body).not.toMatch(/p-[1-7]|scrypt/);
    });
  });

  describe("GET /api/audit/export.csv", () => {
    it("answers the filtered rows as an attachment: UTF-8 with a BOM, a header, before/after as JSON text, formulas defused", async () => {
      const res = await get(`/api/audit/export.csv?${DAY}&action=device`);
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
      expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="audit-\d{8}-\d{6}\.csv"$/);
      expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      const lines = res.body.slice(1).split("\r\n");
      expect(lines[0]).toBe("id,at,actor,ip,action,target,before,after");
      expect(lines.slice(1, -1).map((line) => line.split(",")[2])).toEqual(["dave", "carol", "alice", "alice"]);
      expect(lines.at(-1)).toBe("");
      // `at` as the plant's wall clock with its offset (Asia/Shanghai until set).
      expect(lines[2]).toMatch(/,2024-03-01 14:00:00 \+08:00,carol,10\.0\.0\.3,device\.update,"'=HYPERLINK\(""http:\/\/x""\)",,"\{""note"":""零点校准 \+3 %""\}"$/);
      expect(lines[3]).toMatch(/,2024-03-01 10:00:00 \+08:00,alice,10\.0\.0\.1,device\.update,A001,"\{""k"":1\}","\{""k"":1\.1\}"$/);
    });

    // Issue 15, item 4: exports are in the plant's zone, the offset written.
    it("writes `at` in the plant's zone once it is set, with that zone's offset", async () => {
      const admin = await t.as("admin");
      const put = (time_zone: string) => t.app.inject({ method: "PUT", url: "/api/settings/plant", headers: admin, payload: { time_zone } });
      expect((await put("America/New_York")).statusCode).toBe(200);
      try {
        const lines = (await get(`/api/audit/export.csv?${DAY}&action=device&actor=carol`)).body.slice(1).split("\r\n");
        expect(lines[1]!.split(",")[1]).toBe("2024-03-01 01:00:00 -05:00");
      } finally {
        expect((await put("Asia/Shanghai")).statusCode).toBe(200);
      }
    });

    it("quotes text with commas and quotes; an unknown address is an empty cell", async () => {
      const res = await get(`/api/audit/export.csv?${DAY}&actor=carol&action=channel.update`);
      expect(res.body.slice(1).split("\r\n")[1]).toMatch(/,carol,,channel\.update,"webhook ""ops"", east","\{""name"":""ops""\}","\{""name"":""ops, east""\}"$/);
    });

    it("takes the same filters and a limit (newest first); an empty match is the header alone", async () => {
      const res = await get(`/api/audit/export.csv?${DAY}&limit=2`);
      expect(res.body.slice(1).split("\r\n").slice(1, -1).map((line) => line.split(",")[5])).toEqual(["50%_gas", "batch"]);
      expect((await get(`/api/audit/export.csv?${DAY}&actor=nobody`)).body).toBe("\uFEFFid,at,actor,ip,action,target,before,after\r\n");
    });

    it("refuses bad filters: 400 naming the parameter", async () => {
      expectError(await get("/api/audit/export.csv?to=soon"), 400, "MCS_ERR_VALIDATION", /^query\.to/);
      expectError(await get("/api/audit/export.csv?limit=100001"), 400, "MCS_ERR_VALIDATION", /^query\.limit/);
    });
  });
});
