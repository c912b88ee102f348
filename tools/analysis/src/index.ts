export * from "./generate-archive.ts";
export * from "./read-archive.ts";
export * from "./report.ts";
export * from "./report-data.ts";
export * from "./report-html.ts";
export * from "./report-i18n.ts";
export { main } from "./cli.ts";
