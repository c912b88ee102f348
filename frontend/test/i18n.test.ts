import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import zhCN from "../src/i18n/zh-CN.ts";
import en from "../src/i18n/en.ts";

const SRC = join(import.meta.dirname, "..", "src");

function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "i18n" ? [] : sources(path);
    return /\.(vue|ts)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

function lookup(messages: object, key: string): unknown {
  return key.split(".").reduce<unknown>((node, part) => (node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined), messages);
}

function leaves(messages: object, prefix = ""): string[] {
  return Object.entries(messages).flatMap(([key, value]) => (typeof value === "object" && value ? leaves(value as object, `${prefix}${key}.`) : [`${prefix}${key}`]));
}

/** Every visible text comes from the message files, in both languages. */
describe("translations", () => {
  it("has every key the code asks for, in Chinese and English", () => {
    const missing: string[] = [];
    for (const file of sources()) {
      const code = readFileSync(file, "utf8");
      // t("a.b"), t('a.b'), and keys held in data (label: "menu.devices").
      const keys = [...code.matchAll(/\bt\(\s*["']([A-Za-z][\w.-]*)["']|label: "([a-z]+\.[\w.]+)"/g)].map((match) => match[1] ?? match[2] ?? "");
      // t(`status.${x}`): the prefix must exist.
      const prefixes = [...code.matchAll(/\bt\(\s*`([\w.]+)\.\$\{/g)].map((match) => match[1] ?? "");
      for (const key of keys) if (typeof lookup(zhCN, key) !== "string" || typeof lookup(en, key) !== "string") missing.push(`${file}: ${key}`);
      for (const prefix of prefixes) if (typeof lookup(zhCN, prefix) !== "object" || typeof lookup(en, prefix) !== "object") missing.push(`${file}: ${prefix}.*`);
    }
    expect(missing).toEqual([]);
  });

  it("has the same keys in both languages, none left empty", () => {
    expect(leaves(en)).toEqual(leaves(zhCN));
    expect(leaves(zhCN).filter((key) => !lookup(zhCN, key) || !lookup(en, key))).toEqual([]);
  });

  it("keeps Chinese text out of the components (it belongs in zh-CN.ts)", () => {
    const hardCoded = sources().filter((file) => /[\u4e00-\u9fff]/.test(readFileSync(file, "utf8")));
    expect(hardCoded).toEqual([]);
  });
});
