// `npm run docs:api`: writes docs/api.md from the API's own OpenAPI document;
// `npm run docs:api -- --check` exits 1 when docs/api.md is not current (CI runs the check as a test).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { apiReference } from "../src/api-reference.ts";

const FILE = fileURLToPath(new URL("../../docs/api.md", import.meta.url));
const text = await apiReference();
if (process.argv.includes("--check")) {
  const current = readFileSync(FILE, "utf8");
  if (current !== text) {
    console.error("docs/api.md is not current: run npm run docs:api");
    process.exit(1);
  }
  console.log("docs/api.md is current");
} else {
  writeFileSync(FILE, text);
  console.log(`wrote ${FILE}`);
}
process.exit(0);
