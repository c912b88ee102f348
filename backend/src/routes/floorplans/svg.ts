import type { DOMPurify as Purifier } from "dompurify";
import { doctypeEnd } from "./image-kind.ts";

/**
 * SVG floor plans are sanitised before they are stored, so that a drawing can never run
 * anything wherever it is shown (even opened on its own, inlined, or in an old browser).
 *
 * 1. The prolog goes: XML declaration, processing instructions, comments and the DOCTYPE
 *    with its entity declarations. Internal entities with a literal value (Illustrator
 *    writes `<!ENTITY ns_svg "http://www.w3.org/2000/svg">`) are expanded once, as text;
 *    external (SYSTEM/PUBLIC) and parameter entities are never resolved: a reference to one
 *    is dropped (no XXE, no billion laughs).
 * 2. The rest is parsed as XML, as a browser parses an SVG file (jsdom's DOMParser), so the
 *    tree sanitised is the tree that would be rendered.
 * 3. DOMPurify with its SVG profile removes scripts, event handlers (on*), foreignObject,
 *    iframe/embed/object, animation that could set attributes, and `javascript:` URLs.
 *    On top of it: `<use>` is allowed back for references inside the drawing only, every
 *    href/xlink:href must be `#fragment` or `data:image/png|jpeg`, and CSS loses `@import`
 *    and external `url()`.
 * 4. The result is serialised as XML, with its width/height/viewBox read for the answer.
 */

const SVG_NS = "http://www.w3.org/2000/svg";
const XLINK_NS = "http://www.w3.org/1999/xlink";
const PREDEFINED = new Set(["amp", "lt", "gt", "quot", "apos"]);
const SAFE_DATA_URL = /^data:image\/(png|jpeg|jpg);base64,[A-Za-z0-9+/=\s]*$/i;

/** A drawing that cannot be used, with the reason in plain words. */
export class SvgRejectedError extends Error {}

export interface SanitisedSvg {
  svg: Buffer;
  width: number | null;
  height: number | null;
}

interface Sanitiser {
  purify: Purifier;
  parse(text: string): Document;
  serialise(node: Node): string;
}

// jsdom takes most of a second to load: only the first SVG upload pays for it.
let sanitiser: Promise<Sanitiser> | undefined;

function loadSanitiser(): Promise<Sanitiser> {
  return (sanitiser ??= (async () => {
    const [{ JSDOM }, { default: createDOMPurify }] = await Promise.all([import("jsdom"), import("dompurify")]);
    const { window } = new JSDOM("<!DOCTYPE html><html><body></body></html>");
    const purify = createDOMPurify(window as unknown as Parameters<typeof createDOMPurify>[0]);
    purify.addHook("uponSanitizeElement", (node, data) => {
      const element = node as Element;
      if (data.tagName === "use" && !isSafeRef(hrefOf(element))) element.parentNode?.removeChild(element);
      else if (data.tagName === "style" && element.textContent) element.textContent = withoutExternalCss(element.textContent);
    });
    purify.addHook("uponSanitizeAttribute", (_node, data) => {
      const name = data.attrName.toLowerCase();
      if (name.startsWith("on")) data.keepAttr = false;
      else if (name === "href" || name.endsWith(":href") || name === "src") data.keepAttr = isSafeRef(data.attrValue);
      else if (/url\s*\(|@import/i.test(data.attrValue)) data.attrValue = withoutExternalCss(data.attrValue);
    });
    const parser = new window.DOMParser();
    const serializer = new window.XMLSerializer();
    return {
      purify,
      parse: (text) => parser.parseFromString(text, "image/svg+xml") as unknown as Document,
      serialise: (node) => serializer.serializeToString(node as never),
    };
  })());
}

function hrefOf(element: Element): string | null {
  return element.getAttribute("href") ?? element.getAttributeNS(XLINK_NS, "href") ?? element.getAttribute("xlink:href");
}

/** Inside the drawing (`#id`), or an embedded PNG/JPEG: nothing is fetched, nothing runs. */
function isSafeRef(value: string | null): boolean {
  if (value === null) return false;
  const trimmed = value.trim();
  return /^#[^\s"'<>()]*$/.test(trimmed) || SAFE_DATA_URL.test(trimmed);
}

/** CSS without `@import` and with every `url()` that leaves the drawing replaced by `none`. */
function withoutExternalCss(css: string): string {
  return css
    .replace(/@import[^;]*;?/gi, "")
    .replace(/url\s*\(\s*(["']?)(.*?)\1\s*\)/gi, (whole, _quote: string, target: string) => (isSafeRef(target) ? whole : "none"));
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** Literal internal general entities of a DOCTYPE's internal subset; nothing else is taken. */
function internalEntities(doctype: string): Map<string, string> {
  const entities = new Map<string, string>();
  for (const match of doctype.matchAll(/<!ENTITY\s+([A-Za-z_][\w.:-]*)\s+(?:"([^"&%<]*)"|'([^'&%<]*)')\s*>/g)) {
    if (!entities.has(match[1]!)) entities.set(match[1]!, match[2] ?? match[3] ?? "");
  }
  return entities;
}

/** The root element's source with the prolog gone and the entity references settled; `maxChars` bounds expansion. */
function withoutProlog(text: string, maxChars: number): string {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let entities = new Map<string, string>();
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i += 1;
    if (text.startsWith("<?", i)) {
      const end = text.indexOf("?>", i + 2);
      if (end < 0) throw new SvgRejectedError("a processing instruction that never ends");
      i = end + 2;
    } else if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i + 4);
      if (end < 0) throw new SvgRejectedError("a comment that never ends");
      i = end + 3;
    } else if (text.startsWith("<!DOCTYPE", i)) {
      const end = doctypeEnd(text, i);
      if (end < 0) throw new SvgRejectedError("a DOCTYPE that never ends");
      entities = internalEntities(text.slice(i, end));
      i = end;
    } else break;
  }
  let budget = maxChars - (text.length - i);
  const body = text.slice(i).replace(/&([A-Za-z_][\w.:-]*);/g, (whole, name: string) => {
    if (PREDEFINED.has(name)) return whole;
    const value = entities.get(name);
    if (value === undefined) return ""; // external, parameter or undeclared: never resolved
    budget -= value.length;
    if (budget < 0) throw new SvgRejectedError("its entities expand to more than the size limit");
    return xmlEscape(value);
  });
  // The root's start tag: give it the SVG namespace (and xlink's) when the file forgot them, as browsers need them.
  const startTag = /^<([A-Za-z_][\w.-]*:)?svg\b((?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(body);
  if (!startTag) throw new SvgRejectedError("its root element is not <svg>");
  if (startTag[1]) return body; // a prefixed root declares its namespace itself
  const attributes = startTag[2] ?? "";
  let added = "";
  if (!/\sxmlns\s*=/.test(attributes)) added += ` xmlns="${SVG_NS}"`;
  if (!/\sxmlns:xlink\s*=/.test(attributes) && body.includes("xlink:")) added += ` xmlns:xlink="${XLINK_NS}"`;
  return added ? `<svg${added}${body.slice(4)}` : body;
}

const UNITS: Record<string, number> = { "": 1, px: 1, pt: 96 / 72, pc: 16, in: 96, cm: 96 / 2.54, mm: 96 / 25.4 };

/** A length in CSS pixels; null for a percentage, an em or anything unreadable. */
function length(value: string | null): number | null {
  if (value === null) return null;
  const match = /^\s*([+]?\d*\.?\d+(?:e[+-]?\d+)?)\s*(px|pt|pc|in|cm|mm)?\s*$/i.exec(value);
  if (!match) return null;
  const number = Number(match[1]) * UNITS[(match[2] ?? "").toLowerCase()]!;
  return Number.isFinite(number) && number > 0 ? number : null;
}

function dimensions(svg: Element): { width: number | null; height: number | null } {
  let width = length(svg.getAttribute("width"));
  let height = length(svg.getAttribute("height"));
  const box = (svg.getAttribute("viewBox") ?? "").trim().split(/[\s,]+/).map(Number);
  if (box.length === 4 && box.every(Number.isFinite) && box[2]! > 0 && box[3]! > 0) {
    const [, , boxWidth, boxHeight] = box as [number, number, number, number];
    if (width === null && height === null) [width, height] = [boxWidth, boxHeight];
    else if (width === null) width = (height! * boxWidth) / boxHeight;
    else if (height === null) height = (width * boxHeight) / boxWidth;
  }
  const whole = (n: number | null) => (n === null || n > 1_000_000 ? null : Math.max(1, Math.round(n)));
  return { width: whole(width), height: whole(height) };
}

/** The drawing made safe, or SvgRejectedError saying why it cannot be used. */
export async function sanitiseSvg(text: string, maxChars: number): Promise<SanitisedSvg> {
  const { purify, parse, serialise } = await loadSanitiser();
  const source = withoutProlog(text, maxChars);
  const doc = parse(source);
  const root = doc.documentElement;
  if (root.localName === "parsererror") throw new SvgRejectedError(`it is not well-formed XML (${(root.textContent ?? "").trim().slice(0, 200)})`);
  if (root.localName !== "svg" || root.namespaceURI !== SVG_NS) throw new SvgRejectedError("its root element is not <svg> in the SVG namespace");
  const fragment = purify.sanitize(root, {
    USE_PROFILES: { svg: true, svgFilters: true },
    ADD_TAGS: ["use"],
    FORBID_TAGS: ["script", "foreignObject", "foreignobject", "iframe", "embed", "object", "animate", "set", "handler", "listener"],
    // A removed element goes with everything in it.
    KEEP_CONTENT: false,
    RETURN_DOM_FRAGMENT: true,
  });
  const svg = fragment.firstElementChild;
  if (!svg || svg.localName !== "svg") throw new SvgRejectedError("nothing of it is left once sanitised");
  return { svg: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${serialise(svg)}\n`, "utf8"), ...dimensions(svg) };
}
