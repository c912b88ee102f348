/**
 * What an uploaded drawing is, from its bytes (never its name or the client's type), and
 * its size in pixels from the PNG or JPEG header, with no native dependency.
 */

export type Sniffed =
  | { kind: "png" | "jpeg"; width: number; height: number }
  | { kind: "svg"; text: string }
  | { kind: "refused"; what: string }
  | { kind: "damaged"; what: string };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Files people upload by mistake, told by name in the refusal. */
const KNOWN: { what: string; test: (b: Buffer) => boolean }[] = [
  { what: "a Windows program (PE)", test: (b) => b.subarray(0, 2).toString("latin1") === "MZ" },
  { what: "a program (ELF)", test: (b) => b.subarray(0, 4).toString("latin1") === "\x7fELF" },
  { what: "a ZIP archive (or an Office document)", test: (b) => b.subarray(0, 4).toString("latin1") === "PK\x03\x04" || b.subarray(0, 4).toString("latin1") === "PK\x05\x06" },
  { what: "a PDF document", test: (b) => b.subarray(0, 5).toString("latin1") === "%PDF-" },
  { what: "a GIF image", test: (b) => b.subarray(0, 4).toString("latin1") === "GIF8" },
  { what: "a WebP image", test: (b) => b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP" },
  { what: "a BMP image", test: (b) => b.subarray(0, 2).toString("latin1") === "BM" },
  { what: "a TIFF image", test: (b) => ["II*\0", "MM\0*"].includes(b.subarray(0, 4).toString("latin1")) },
  { what: "a DWG drawing (export it as PNG or SVG)", test: (b) => b.subarray(0, 4).toString("latin1") === "AC10" },
];

/** PNG: the IHDR chunk comes first and holds width and height (big-endian). */
function pngSize(bytes: Buffer): Sniffed {
  if (bytes.length < 33 || bytes.subarray(12, 16).toString("latin1") !== "IHDR") return { kind: "damaged", what: "a PNG file without its header (IHDR)" };
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return { kind: "damaged", what: `a PNG file with an impossible size ${width}×${height}` };
  return { kind: "png", width, height };
}

/** JPEG: walk the marker segments to the first frame header (SOFn), which holds height then width. */
function jpegSize(bytes: Buffer): Sniffed {
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return { kind: "damaged", what: "a JPEG file with a broken marker before its frame header" };
    let marker = bytes[i + 1]!;
    // Fill bytes: any number of 0xFF before a marker.
    while (marker === 0xff && i + 2 < bytes.length) {
      i += 1;
      marker = bytes[i + 1]!;
    }
    // Markers without a length: TEM, RST0–7.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image or start of scan: no frame header came
    const length = bytes.readUInt16BE(i + 2);
    if (length < 2) return { kind: "damaged", what: "a JPEG file with a broken segment length" };
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (i + 9 > bytes.length) break;
      const height = bytes.readUInt16BE(i + 5);
      const width = bytes.readUInt16BE(i + 7);
      if (width === 0 || height === 0) return { kind: "damaged", what: `a JPEG file with an impossible size ${width}×${height}` };
      return { kind: "jpeg", width, height };
    }
    i += 2 + length;
  }
  return { kind: "damaged", what: "a JPEG file without a frame header (SOF)" };
}

/** The name of the first element after the prolog (XML declaration, comments, PIs, DOCTYPE), lower-cased. */
function rootName(text: string): string | null {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i += 1;
    if (text.startsWith("<?", i)) {
      const end = text.indexOf("?>", i + 2);
      if (end < 0) return null;
      i = end + 2;
    } else if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i + 4);
      if (end < 0) return null;
      i = end + 3;
    } else if (/^<!doctype/i.test(text.slice(i, i + 9))) {
      const name = /^<!doctype\s+([^\s>[]+)/i.exec(text.slice(i, i + 200))?.[1];
      if (name?.toLowerCase() === "html") return "html";
      const end = doctypeEnd(text, i);
      if (end < 0) return null;
      i = end;
    } else {
      const match = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(i, i + 200));
      return match ? match[1]!.toLowerCase() : null;
    }
  }
}

/** The index just past a DOCTYPE (internal subset included), quotes and comments respected; -1 when it never ends. */
export function doctypeEnd(text: string, start: number): number {
  let i = start + 9;
  let depth = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end + 1;
      continue;
    }
    if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i + 4);
      if (end < 0) return -1;
      i = end + 3;
      continue;
    }
    if (c === "[") depth += 1;
    else if (c === "]") depth -= 1;
    else if (c === ">" && depth <= 0) return i + 1;
    i += 1;
  }
  return -1;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Recognises a PNG, JPEG or SVG by its content; anything else is refused, named where it is known. */
export function sniffImage(bytes: Buffer): Sniffed {
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return pngSize(bytes);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegSize(bytes);
  const known = KNOWN.find((entry) => entry.test(bytes));
  if (known) return { kind: "refused", what: known.what };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { kind: "refused", what: "a file that is neither a PNG, JPEG nor SVG image" };
  }
  const root = rootName(text);
  if (root === "svg" || root?.endsWith(":svg")) return { kind: "svg", text };
  if (root === "html" || root === "body" || root === "head" || root === "script") return { kind: "refused", what: "an HTML page" };
  if (root !== null) return { kind: "refused", what: `an XML document whose root is <${root}>, not <svg>` };
  return { kind: "refused", what: "a text file, not a PNG, JPEG or SVG image" };
}
