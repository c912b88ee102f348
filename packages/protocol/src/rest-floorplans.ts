import { z } from "zod";
import { SN_PATTERN } from "./topics.ts";

/** A plant drawing is a few MB at most; this bounds memory and the database row. */
export const MAX_FLOORPLAN_BYTES = 10 * 1024 * 1024;
/** What a floor plan may be; recognised by the file's content, never by its name or the client's type. */
export const FLOORPLAN_MIMES = ["image/png", "image/jpeg", "image/svg+xml"] as const;
export type FloorplanMime = (typeof FLOORPLAN_MIMES)[number];
/** How many devices one plan may carry. */
export const MAX_FLOORPLAN_DEVICES = 5000;

const NameSchema = z.string("name is 1–100 characters").trim().min(1, "name is 1–100 characters").max(100, "name is 1–100 characters");
const PositionSchema = z.number().int("position is a whole number").min(0, "position is 0 or more").max(1_000_000, "position is at most 1000000");
const percent = (axis: "x" | "y") =>
  z.number(`${axis} is a number: per cent of the drawing's ${axis === "x" ? "width" : "height"}`)
    .min(0, `${axis} is 0–100 (per cent of the drawing's ${axis === "x" ? "width" : "height"})`)
    .max(100, `${axis} is 0–100 (per cent of the drawing's ${axis === "x" ? "width" : "height"})`);

/** A device on a plan, at x % of the drawing's width from the left and y % of its height from the top. */
export const FloorplanDeviceSchema = z.object({
  sn: z.string().regex(SN_PATTERN, "sn is 1–32 letters, digits, '_' or '-'"),
  x: percent("x"),
  y: percent("y"),
}).strict();
export type FloorplanDevice = z.infer<typeof FloorplanDeviceSchema>;

/** A floor plan as answered (its image is `GET /api/floorplans/{id}/image`). */
export const FloorplanSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  /** Plans are listed by position, then id. */
  position: z.number().int(),
  mime: z.enum(FLOORPLAN_MIMES),
  /** Pixels (PNG, JPEG) or user units (SVG: width/height, else the viewBox); null when an SVG states neither. */
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  devices: z.array(z.object({ sn: z.string(), x: z.number(), y: z.number() })),
});
export type Floorplan = z.infer<typeof FloorplanSchema>;
export const FloorplanListSchema = z.object({ data: z.array(FloorplanSchema) });

/** The text fields of the multipart upload (`POST /api/floorplans`, the drawing as the `file` part). */
export const FloorplanUploadFieldsSchema = z.object({ name: NameSchema }).strict();

/** `PATCH /api/floorplans/{id}` */
export const FloorplanPatchSchema = z
  .object({ name: NameSchema, position: PositionSchema })
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: "nothing to change", when: (payload) => payload.issues.length === 0 });
export type FloorplanPatch = z.infer<typeof FloorplanPatchSchema>;

/** `PUT /api/floorplans/{id}/devices`: the plan's placements, all of them (a device on another plan moves here). */
export const FloorplanDevicesSchema = z.object({
  devices: z
    .array(FloorplanDeviceSchema)
    .max(MAX_FLOORPLAN_DEVICES, `devices: at most ${MAX_FLOORPLAN_DEVICES} on one plan`)
    .refine((devices) => new Set(devices.map((device) => device.sn)).size === devices.length, "devices: place each device once"),
}).strict();
export type FloorplanDevices = z.infer<typeof FloorplanDevicesSchema>;
