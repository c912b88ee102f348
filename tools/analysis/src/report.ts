import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { readArchiveFiles, type ReadOptions } from "./read-archive.ts";
import { reportData } from "./report-data.ts";
import { renderReportHtml } from "./report-html.ts";
import type { ReportLang } from "./report-i18n.ts";

export interface ReportOptions extends ReadOptions {
  files: readonly string[];
  out: string;
  lang?: ReportLang;
  now?: number;
}

/** Archive files in, one self-contained report.html out; returns what it analysed. */
export async function writeReport(options: ReportOptions): Promise<{ devices: number; readings: number; bytes: number }> {
  const builder = await readArchiveFiles(options.files, options);
  const analysis = builder.build();
  const data = reportData(analysis, options.lang ?? "zh-CN", options.now);
  const html = renderReportHtml(data, await echartsSource());
  await writeFile(options.out, html);
  return { devices: data.devices.length, readings: data.readings, bytes: Buffer.byteLength(html) };
}

/** The full ECharts bundle from node_modules, to inline: the report must open without a network. */
async function echartsSource(): Promise<string> {
  const require = createRequire(import.meta.url);
  return readFile(require.resolve("echarts/dist/echarts.min.js"), "utf8");
}
