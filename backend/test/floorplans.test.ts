import { randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FloorplanSchema, type Floorplan, type Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
const ALL: Role[] = ["admin", "engineer", "operator", "viewer"];
const EDITORS: Role[] = ["admin", "engineer"];
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

// ── Tiny valid images, made here ──────────────────────────────────────────────────────

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
/** An RGB PNG of one colour. */
function png(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, no filter, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x7f)]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(pixels)), chunk("IEND", Buffer.alloc(0))]);
}
/**
 * A grey baseline JPEG of at most 8×8 pixels: one block whose DC and AC coefficients are all
 * zero, coded with one-symbol Huffman tables (DC category 0 → "0", AC end-of-block → "0").
 * Chromium decodes it.
 */
function jpeg(width: number, height: number): Buffer {
  const segment = (marker: number, data: number[]) => [0xff, marker, ((data.length + 2) >> 8) & 0xff, (data.length + 2) & 0xff, ...data];
  const bits = (count: number) => [count, ...Array<number>(15).fill(0)]; // codes per length 1…16
  return Buffer.from([
    0xff, 0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]), // APP0 JFIF
    ...segment(0xdb, [0, ...Array<number>(64).fill(1)]), // DQT 0, all ones
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]), // SOF0, one grey component
    ...segment(0xc4, [0x00, ...bits(1), 0x00]), // DHT DC 0: one code, symbol 0 (category 0)
    ...segment(0xc4, [0x10, ...bits(1), 0x00]), // DHT AC 0: one code, symbol 0x00 (end of block)
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS
    0x3f, // "0" DC, "0" EOB, padded with ones
    0xff, 0xd9,
  ]);
}
const SVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1200 800"><rect x="10" y="10" width="300" height="200" fill="#eee" stroke="#333"/><text x="20" y="40">罐区 A</text></svg>`;
const EXTERNAL = "evil.example";
const MALICIOUS_SVG = `<?xml version="1.0"?>
<!DOCTYPE svg [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY % remote SYSTEM "http://${EXTERNAL}/x.dtd"> %remote;
]>
<?xml-stylesheet href="http://${EXTERNAL}/style.css"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="640" height="480" onload="alert('onload')">
  <script>alert('script')</script>
  <script xlink:href="http://${EXTERNAL}/evil.js"/>
  <defs><g id="pump"><circle r="5" fill="blue"/></g></defs>
  <text x="5" y="20">&xxe;</text>
  <a href="javascript:alert('href')"><rect width="50" height="50" onclick="alert('click')"/></a>
  <a xlink:href="javascript:alert('xlink')"><rect x="60" width="50" height="50"/></a>
  <use href="http://${EXTERNAL}/sprites.svg#pump" x="100"/>
  <use xlink:href="#pump" x="200" y="200"/>
  <image href="http://${EXTERNAL}/tracker.png" width="1" height="1"/>
  <foreignObject width="100" height="100"><div xmlns="http://www.w3.org/1999/xhtml"><iframe src="http://${EXTERNAL}/"></iframe>foreign</div></foreignObject>
  <rect y="300" width="10" height="10" style="fill:red;background:url(http://${EXTERNAL}/bg.png)"/>
  <set attributeName="onmouseover" to="alert('set')"/>
</svg>`;

interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  type?: string;
}
/** A multipart/form-data body as a browser sends it. */
function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----mcs${randomBytes(8).toString("hex")}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ""}`;
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ""}\r\n`;
    chunks.push(Buffer.from(head, "utf8"), typeof part.value === "string" ? Buffer.from(part.value, "utf8") : part.value, Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}
const upload = (name: string, file: Buffer | string, filename = "plan.png", type = "image/png") =>
  multipart([{ name: "name", value: name }, { name: "file", value: file, filename, type }]);

// Issue 5, item 6: floor plans (DESIGN: `/api/floorplans`, placements in per cent).
describe.each(MODES)("/api/floorplans (%s mode)", (mode) => {
  let t: TestApp;
  let as: Record<Role, { authorization: string }>;
  let plan: Floorplan;
  const call = (method: Method, url: string, role: Role = "admin", payload?: object) =>
    t.app.inject({ method, url, headers: as[role], ...(payload !== undefined && { payload }) });
  const post = (body: { payload: Buffer; headers: Record<string, string> }, role: Role = "engineer") =>
    t.app.inject({ method: "POST", url: "/api/floorplans", headers: { ...as[role], ...body.headers }, payload: body.payload });
  const created = async (name: string, file: Buffer | string, filename?: string, type?: string): Promise<Floorplan> => {
    const res = await post(upload(name, file, filename, type));
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Floorplan>();
  };
  const place = (id: number, devices: { sn: string; x: number; y: number }[], role: Role = "engineer") => call("PUT", `/api/floorplans/${id}/devices`, role, { devices });
  const count = async (table: string) => (await t.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
  const audit = async () => (await call("GET", "/api/audit?limit=1000")).json<{ data: { action: string; target: string; before: any; after: any }[] }>().data;

  beforeAll(async () => {
    t = await buildTestApp(mode);
    as = Object.fromEntries(await Promise.all(ALL.map(async (role) => [role, await t.as(role)] as const))) as Record<Role, { authorization: string }>;
    for (const sn of ["FP-1", "FP-2", "FP-3", "FP-4"]) expect((await call("POST", "/api/devices", "admin", { sn, name: `detector ${sn}` })).statusCode).toBe(201);
    plan = await created("一号车间 Workshop 1", png(40, 30));
  });
  afterAll(async () => t.close());

  describe("who may call which route", () => {
    const routes = () => [
      { method: "GET" as const, url: "/api/floorplans", roles: ALL },
      { method: "POST" as const, url: "/api/floorplans", roles: EDITORS, multipart: upload("x", png(2, 2)) },
      { method: "GET" as const, url: `/api/floorplans/${plan.id}`, roles: ALL },
      { method: "GET" as const, url: `/api/floorplans/${plan.id}/image`, roles: ALL },
      { method: "PATCH" as const, url: `/api/floorplans/${plan.id}`, roles: EDITORS, payload: { name: "renamed" } },
      { method: "PUT" as const, url: `/api/floorplans/${plan.id}/devices`, roles: EDITORS, payload: { devices: [] } },
      { method: "DELETE" as const, url: `/api/floorplans/${plan.id}`, roles: EDITORS },
    ];
    const inject = (route: ReturnType<typeof routes>[number], headers: Record<string, string>) =>
      t.app.inject({
        method: route.method, url: route.url,
        headers: { ...headers, ...route.multipart?.headers },
        ...(route.payload && { payload: route.payload }), ...(route.multipart && { payload: route.multipart.payload }),
      });

    it("every route answers 401 without a session", async () => {
      for (const route of routes()) expectError(await inject(route, {}), 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
    });

    it("operators and viewers may look but not upload, change, place or delete: 403, and nothing changes", async () => {
      const before = { audit: await count("audit_log"), plans: await count("floorplans"), placed: await count("floorplan_devices") };
      for (const route of routes()) {
        for (const role of ALL.filter((r) => !route.roles.includes(r))) {
          expectError(await inject(route, as[role]), 403, "MCS_ERR_FORBIDDEN", new RegExp(`this needs the role admin or engineer; you are ${role}`));
        }
      }
      expect({ audit: await count("audit_log"), plans: await count("floorplans"), placed: await count("floorplan_devices") }).toEqual(before);
      for (const role of ["operator", "viewer"] as const) {
        expect((await call("GET", "/api/floorplans", role)).statusCode).toBe(200);
        expect((await call("GET", `/api/floorplans/${plan.id}`, role)).json()).toMatchObject({ id: plan.id });
        expect((await call("GET", `/api/floorplans/${plan.id}/image`, role)).statusCode).toBe(200);
      }
    });
  });

  describe("POST /api/floorplans", () => {
    it("takes a PNG: 201 with the plan, its size read from the header; the bytes are stored as sent", async () => {
      expect(() => FloorplanSchema.strict().parse(plan)).not.toThrow();
      const now = new Date(t.clock.now()).toISOString();
      expect(plan).toEqual({
        id: expect.any(Number), name: "一号车间 Workshop 1", position: expect.any(Number), mime: "image/png", width: 40, height: 30,
        created_by: "engineer", created_at: now, updated_at: now, devices: [],
      });
      const image = await call("GET", `/api/floorplans/${plan.id}/image`, "viewer");
      expect(image.rawPayload.equals(png(40, 30))).toBe(true);
      expect(image.headers["content-type"]).toBe("image/png");
    });

    it("takes a JPEG, size from its frame header, whatever the client calls it", async () => {
      const res = await created("Tank farm", jpeg(7, 5), "tank farm.bin", "application/octet-stream");
      expect(res).toMatchObject({ mime: "image/jpeg", width: 7, height: 5 });
      expect((await call("GET", `/api/floorplans/${res.id}/image`)).rawPayload.equals(jpeg(7, 5))).toBe(true);
    });

    it("takes an SVG: size from its viewBox, drawing and text kept", async () => {
      const res = await created("Boiler house", SVG, "boiler.svg", "image/svg+xml");
      expect(res).toMatchObject({ mime: "image/svg+xml", width: 1200, height: 800 });
      const image = await call("GET", `/api/floorplans/${res.id}/image`);
      expect(image.headers["content-type"]).toMatch(/^image\/svg\+xml/);
      expect(image.body).toContain('<rect x="10" y="10" width="300" height="200" fill="#eee" stroke="#333"/>');
      expect(image.body).toContain("罐区 A");
    });

    it("stores a malicious SVG without anything that could run or fetch, and serves it under a CSP that lets nothing run", async () => {
      const res = await created("Trojan", MALICIOUS_SVG, "plan.svg", "image/svg+xml");
      expect(res).toMatchObject({ mime: "image/svg+xml", width: 640, height: 480 });
      const image = await call("GET", `/api/floorplans/${res.id}/image`, "viewer");
      expect(image.statusCode).toBe(200);
      expect(image.headers).toMatchObject({
        "content-security-policy": CSP,
        "x-content-type-options": "nosniff",
        "cache-control": "private, max-age=300",
      });
      const stored = image.body;
      for (const gone of ["<script", "alert", "onload", "onclick", "javascript:", "<foreignObject", "foreignobject", "<iframe", "<div", "DOCTYPE", "ENTITY", "SYSTEM", "xml-stylesheet", "/etc/passwd", "root:", EXTERNAL, "<set"]) {
        expect(stored, `still contains ${gone}`).not.toContain(gone);
      }
      // What is harmless stays: the drawing, its own symbol, the internal reference to it.
      expect(stored).toContain('<use xlink:href="#pump" x="200" y="200"/>');
      expect(stored).toContain('<g id="pump"><circle r="5" fill="blue"/></g>');
      expect(stored).toMatch(/<rect y="300" width="10" height="10" style="fill:red;background:none"\/>/);
      expect((await t.ports.db.query<{ image: Uint8Array }>(`SELECT image FROM floorplans WHERE id = $1`, [res.id]))[0]!.image.byteLength).toBe(image.rawPayload.length);
    });

    it("serves every image with nosniff, the CSP and a private cache", async () => {
      const image = await call("GET", `/api/floorplans/${plan.id}/image`);
      expect(image.headers).toMatchObject({ "content-security-policy": CSP, "x-content-type-options": "nosniff", "cache-control": "private, max-age=300" });
      expect(image.headers["content-disposition"]).toBe(`inline; filename="floorplan-${plan.id}.png"`);
    });

    describe("refuses what is not a PNG, JPEG or SVG drawing (by content, not name) with 415, and stores nothing", () => {
      const pe = Buffer.concat([Buffer.from("MZ\x90\x00\x03\x00\x00\x00", "latin1"), randomBytes(200)]);
      const zip = Buffer.concat([Buffer.from("PK\x03\x04\x14\x00\x00\x00", "latin1"), randomBytes(200)]);
      const html = "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>";
      it.each([
        ["a Windows program renamed .png", pe, /^file: a Windows program \(PE\) is not a floor plan: upload a PNG, JPEG or SVG drawing/],
        ["a ZIP archive renamed .png", zip, /^file: a ZIP archive .* is not a floor plan/],
        ["an HTML page renamed .png", html, /^file: an HTML page is not a floor plan/],
        ["an HTML page without a DOCTYPE", "<html><svg></svg></html>", /^file: an HTML page is not a floor plan/],
        ["a GIF", Buffer.from("GIF89a\x01\x00\x01\x00", "latin1"), /^file: a GIF image is not a floor plan/],
        ["an XML document that is not SVG", '<?xml version="1.0"?><plant/>', /^file: an XML document whose root is <plant>, not <svg>/],
        ["random bytes", Buffer.from([0x00, 0xfe, 0xff, 0x81, 0x92]), /^file: .* is not a floor plan/],
      ])("%s", async (_, file, message) => {
        const before = { plans: await count("floorplans"), audit: await count("audit_log") };
        expectError(await post(upload("bad", file, "plan.png", "image/png")), 415, "MCS_ERR_UNSUPPORTED_MEDIA_TYPE", message);
        expect({ plans: await count("floorplans"), audit: await count("audit_log") }).toEqual(before);
      });
    });

    it("refuses a drawing over 10 MiB with 413 naming the field, closes the connection, stores nothing", async () => {
      const before = await count("floorplans");
      const big = Buffer.concat([png(4, 4), Buffer.alloc(11 * 1024 * 1024)]);
      const res = await post(upload("huge", big));
      expectError(res, 413, "MCS_ERR_TOO_LARGE", "file: the drawing is larger than 10 MiB");
      expect(res.headers.connection).toBe("close");
      expect(await count("floorplans")).toBe(before);
    });

    describe("bad uploads get 400 naming the field, and nothing is stored", () => {
      it.each([
        ["no name", multipart([{ name: "file", value: png(2, 2), filename: "a.png" }]), /^body\.name: name is 1–100 characters/],
        ["an empty name", upload("  ", png(2, 2)), /^body\.name: name is 1–100 characters/],
        ["a name over 100 characters", upload("x".repeat(101), png(2, 2)), /^body\.name: name is 1–100 characters/],
        ["an unknown field", multipart([{ name: "name", value: "a" }, { name: "colour", value: "red" }, { name: "file", value: png(2, 2), filename: "a.png" }]), /^body\.colour: unknown field/],
        ["no file", multipart([{ name: "name", value: "a" }]), /^file: the drawing is missing or empty/],
        ["an empty file", upload("a", Buffer.alloc(0)), /^file: the drawing is missing or empty/],
        ["the file under another name", multipart([{ name: "name", value: "a" }, { name: "image", value: png(2, 2), filename: "a.png" }]), /^file: the drawing goes in the part named "file", not "image"/],
        ["two files", multipart([{ name: "name", value: "a" }, { name: "file", value: png(2, 2), filename: "a.png" }, { name: "file", value: png(2, 2), filename: "b.png" }]), /^file: send one drawing per upload/],
        ["a PNG cut short", upload("a", png(2, 2).subarray(0, 20)), /^file: a PNG file without its header \(IHDR\)/],
        ["a JPEG without a frame header", upload("a", Buffer.from([0xff, 0xd8, 0xff, 0xd9])), /^file: a JPEG file without a frame header \(SOF\)/],
        ["an SVG that is not well-formed", upload("a", "<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "a.svg"), /^file: this SVG cannot be used: it is not well-formed XML/],
      ])("%s", async (_, body, message) => {
        const before = { plans: await count("floorplans"), audit: await count("audit_log") };
        expectError(await post(body), 400, "MCS_ERR_VALIDATION", message);
        expect({ plans: await count("floorplans"), audit: await count("audit_log") }).toEqual(before);
      });

      it("a JSON body is not an upload: 415", async () => {
        expectError(await call("POST", "/api/floorplans", "engineer", { name: "a", file: "iVBOR" }), 415, "MCS_ERR_UNSUPPORTED_MEDIA_TYPE", /multipart\/form-data with the fields name and file/);
      });
    });
  });

  describe("GET, PATCH and DELETE /api/floorplans/{id}", () => {
    it("lists plans by position; PATCH renames and moves one", async () => {
      const first = await created("Floor 1", png(3, 3));
      const second = await created("Floor 2", png(3, 3));
      expect(second.position).toBeGreaterThan(first.position);
      t.clock.advance(60_000);
      const res = await call("PATCH", `/api/floorplans/${second.id}`, "engineer", { name: "Ground floor", position: 0 });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: second.id, name: "Ground floor", position: 0, updated_at: new Date(t.clock.now()).toISOString(), created_at: second.created_at });
      const list = (await call("GET", "/api/floorplans", "viewer")).json<{ data: Floorplan[] }>().data;
      const positions = list.map((p) => p.position);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(list.findIndex((p) => p.id === second.id)).toBeLessThan(list.findIndex((p) => p.id === first.id));
      expect((await call("GET", `/api/floorplans/${second.id}`, "operator")).json()).toMatchObject({ name: "Ground floor", position: 0 });
    });

    it.each([
      ["nothing", {}, /^body: nothing to change$/],
      ["an empty name", { name: "" }, /^body\.name: name is 1–100 characters/],
      ["a negative position", { position: -1 }, /^body\.position: position is 0 or more/],
      ["a fractional position", { position: 1.5 }, /^body\.position: /],
      ["an unknown field", { mime: "text/html" }, /^body\.mime: unknown field/],
    ])("PATCH refuses %s with 400 naming the field", async (_, payload, message) => {
      expectError(await call("PATCH", `/api/floorplans/${plan.id}`, "engineer", payload), 400, "MCS_ERR_VALIDATION", message);
    });

    it("answers 404 for an unknown plan and 400 for an id that is not one", async () => {
      expectError(await call("GET", "/api/floorplans/99999"), 404, "MCS_ERR_NOT_FOUND", "no floor plan 99999");
      expectError(await call("GET", "/api/floorplans/99999/image"), 404, "MCS_ERR_NOT_FOUND", "no floor plan 99999");
      expectError(await call("PATCH", "/api/floorplans/99999", "engineer", { name: "x" }), 404, "MCS_ERR_NOT_FOUND", "no floor plan 99999");
      expectError(await call("PUT", "/api/floorplans/99999/devices", "engineer", { devices: [] }), 404, "MCS_ERR_NOT_FOUND", "no floor plan 99999");
      expectError(await call("DELETE", "/api/floorplans/99999", "engineer"), 404, "MCS_ERR_NOT_FOUND", "no floor plan 99999");
      expectError(await call("GET", "/api/floorplans/abc"), 400, "MCS_ERR_VALIDATION", /^params\.id: id is a floor plan id/);
    });

    it("DELETE answers 204; the plan, its image and its placements are gone, the devices stay", async () => {
      const doomed = await created("Temporary", png(2, 2));
      expect((await place(doomed.id, [{ sn: "FP-4", x: 1, y: 2 }])).statusCode).toBe(200);
      const res = await call("DELETE", `/api/floorplans/${doomed.id}`, "engineer");
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe("");
      expectError(await call("GET", `/api/floorplans/${doomed.id}`), 404, "MCS_ERR_NOT_FOUND");
      expectError(await call("GET", `/api/floorplans/${doomed.id}/image`), 404, "MCS_ERR_NOT_FOUND");
      expect(await t.ports.db.query(`SELECT * FROM floorplan_devices WHERE sn = 'FP-4'`)).toEqual([]);
      expect((await call("GET", "/api/devices/FP-4")).statusCode).toBe(200);
      const row = (await audit()).find((r) => r.action === "floorplan.delete" && r.target === `floorplan ${doomed.id} (Temporary)`);
      expect(row?.before).toMatchObject({ name: "Temporary", mime: "image/png", size: png(2, 2).length, devices: [{ sn: "FP-4", x: 1, y: 2 }] });
    });
  });

  describe("PUT /api/floorplans/{id}/devices", () => {
    it("replaces the placements; they survive reading back, in the list and alone", async () => {
      const devices = [{ sn: "FP-1", x: 12.5, y: 40 }, { sn: "FP-2", x: 0, y: 100 }];
      const res = await place(plan.id, devices);
      expect(res.statusCode).toBe(200);
      expect(res.json<Floorplan>().devices).toEqual(devices);
      expect((await call("GET", `/api/floorplans/${plan.id}`, "viewer")).json<Floorplan>().devices).toEqual(devices);
      const listed = (await call("GET", "/api/floorplans", "operator")).json<{ data: Floorplan[] }>().data.find((p) => p.id === plan.id);
      expect(listed?.devices).toEqual(devices);
      // Replaced, not merged.
      expect((await place(plan.id, [{ sn: "FP-2", x: 33.3333, y: 66.6667 }])).json<Floorplan>().devices).toEqual([{ sn: "FP-2", x: 33.3333, y: 66.6667 }]);
      expect((await call("GET", `/api/floorplans/${plan.id}`)).json<Floorplan>().devices).toEqual([{ sn: "FP-2", x: 33.3333, y: 66.6667 }]);
    });

    it("moves a device placed on another plan here; the other plan keeps the rest", async () => {
      const other = await created("Floor B", png(5, 5));
      await place(plan.id, [{ sn: "FP-1", x: 10, y: 10 }, { sn: "FP-2", x: 20, y: 20 }]);
      const res = await place(other.id, [{ sn: "FP-2", x: 55, y: 45 }, { sn: "FP-3", x: 5, y: 5 }]);
      expect(res.json<Floorplan>().devices).toEqual([{ sn: "FP-2", x: 55, y: 45 }, { sn: "FP-3", x: 5, y: 5 }]);
      expect((await call("GET", `/api/floorplans/${plan.id}`)).json<Floorplan>().devices).toEqual([{ sn: "FP-1", x: 10, y: 10 }]);
      const row = (await audit()).find((r) => r.action === "floorplan.devices" && r.target.startsWith(`floorplan ${other.id} `));
      expect(row).toMatchObject({ before: { devices: [] }, after: { devices: [{ sn: "FP-2", x: 55, y: 45 }, { sn: "FP-3", x: 5, y: 5 }], moved_from: [{ sn: "FP-2", floorplan_id: plan.id }] } });
    });

    it("deleting a device removes its placement", async () => {
      await place(plan.id, [{ sn: "FP-1", x: 10, y: 10 }, { sn: "FP-4", x: 90, y: 90 }]);
      expect((await call("DELETE", "/api/devices/FP-4")).statusCode).toBe(204);
      expect((await call("GET", `/api/floorplans/${plan.id}`)).json<Floorplan>().devices).toEqual([{ sn: "FP-1", x: 10, y: 10 }]);
    });

    it("an empty list clears the plan", async () => {
      const res = await place(plan.id, [], "admin");
      expect(res.json<Floorplan>().devices).toEqual([]);
    });

    it.each([
      ["x over 100", { devices: [{ sn: "FP-1", x: 100.5, y: 1 }] }, /^body\.devices\.0\.x: x is 0–100 \(per cent of the drawing's width\)/],
      ["a negative y", { devices: [{ sn: "FP-1", x: 1, y: 2 }, { sn: "FP-2", x: 1, y: -0.1 }] }, /^body\.devices\.1\.y: y is 0–100 \(per cent of the drawing's height\)/],
      ["x as text", { devices: [{ sn: "FP-1", x: "50%", y: 1 }] }, /^body\.devices\.0\.x: x is a number/],
      ["no y", { devices: [{ sn: "FP-1", x: 1 }] }, /^body\.devices\.0\.y: /],
      ["a bad sn", { devices: [{ sn: "no spaces", x: 1, y: 1 }] }, /^body\.devices\.0\.sn: sn is 1–32 letters/],
      ["a device twice", { devices: [{ sn: "FP-1", x: 1, y: 1 }, { sn: "FP-1", x: 2, y: 2 }] }, /^body\.devices: devices: place each device once/],
      ["an unknown field in a placement", { devices: [{ sn: "FP-1", x: 1, y: 1, z: 3 }] }, /^body\.devices\.0\.z: unknown field/],
      ["no list", {}, /^body\.devices: /],
      ["a device that does not exist", { devices: [{ sn: "FP-1", x: 1, y: 1 }, { sn: "GHOST-7", x: 1, y: 1 }] }, "body.devices.1.sn: no device GHOST-7"],
    ])("refuses %s with 400 naming the field, and changes nothing", async (_, payload, message) => {
      await place(plan.id, [{ sn: "FP-3", x: 50, y: 50 }]);
      const before = await count("audit_log");
      expectError(await call("PUT", `/api/floorplans/${plan.id}/devices`, "engineer", payload), 400, "MCS_ERR_VALIDATION", message);
      expect((await call("GET", `/api/floorplans/${plan.id}`)).json<Floorplan>().devices).toEqual([{ sn: "FP-3", x: 50, y: 50 }]);
      expect(await count("audit_log")).toBe(before);
    });
  });

  describe("GET /api/audit", () => {
    it("records every change with name, size, mime and placements before → after, never the image's bytes", async () => {
      const res = await call("GET", "/api/audit?limit=1000");
      const rows = res.json<{ data: { action: string; target: string; actor: string; before: any; after: any }[] }>().data;
      expect(new Set(rows.filter((r) => r.action.startsWith("floorplan.")).map((r) => r.action))).toEqual(new Set(["floorplan.create", "floorplan.update", "floorplan.delete", "floorplan.devices"]));
      const create = rows.find((r) => r.action === "floorplan.create" && r.target === `floorplan ${plan.id} (${plan.name})`);
      expect(create).toMatchObject({ actor: "engineer", before: null, after: { name: plan.name, mime: "image/png", size: png(40, 30).length, width: 40, height: 30, devices: [] } });
      const update = rows.find((r) => r.action === "floorplan.update");
      expect(update).toMatchObject({ before: { name: "Floor 2" }, after: { name: "Ground floor", position: 0 } });
      expect(res.body).not.toContain(png(40, 30).toString("base64").slice(0, 24));
      expect(res.body).not.toContain("<svg");
      expect(res.body).not.toContain("\\\\x89PNG");
    });
  });
});
