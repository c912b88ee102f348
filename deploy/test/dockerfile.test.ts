import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Issue 14: hadolint cannot be installed here (no Debian package, no download), so its rules
// that matter for these images are checked on the file itself; the ids are hadolint's.
const dockerfile = readFileSync(fileURLToPath(new URL("../Dockerfile", import.meta.url)), "utf8");
const instructions = dockerfile
  .replace(/\\\n\s*/g, " ")
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"))
  .map((line) => {
    const [keyword, ...rest] = line.trim().split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(" ") };
  });
const defaults = Object.fromEntries(instructions.filter((i) => i.keyword === "ARG" && i.args.includes("=")).map((i) => i.args.split("=") as [string, string]));

interface Stage { name: string; image: string; lines: typeof instructions }
const stages: Stage[] = [];
for (const instruction of instructions) {
  if (instruction.keyword === "FROM") {
    const [image, , name] = instruction.args.split(/\s+/);
    stages.push({ name: name ?? "", image: image!.replace(/^\$\{(\w+)\}$/, (_m, arg: string) => defaults[arg] ?? arg), lines: [] });
  } else stages.at(-1)?.lines.push(instruction);
}
const stage = (name: string) => stages.find((s) => s.name === name)!;

describe("deploy/Dockerfile", () => {
  it("builds the three images of docker-compose.yml and the vendor's", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "deps", "app", "nginx", "license-server"]);
  });

  it("DL3006/DL3007: pins every base image to a release, never latest", () => {
    const bases = stages.map((s) => s.image).filter((image) => !stages.some((s) => s.name === image));
    expect(bases.length).toBeGreaterThanOrEqual(3);
    for (const image of bases) expect(image).toMatch(/^[\w./-]+:\d+\.\d+\.\d+[\w.-]*$/);
  });

  it("DL3002: the programs run as the unprivileged node user", () => {
    for (const name of ["app", "license-server"]) expect(stage(name).lines.filter((l) => l.keyword === "USER").at(-1)?.args).toBe("node");
  });

  it("DL3025/DL3000/DL3020: CMD in exec form, absolute WORKDIR, COPY rather than ADD", () => {
    for (const line of instructions) {
      if (line.keyword === "CMD" || line.keyword === "ENTRYPOINT") expect(() => JSON.parse(line.args)).not.toThrow();
      if (line.keyword === "WORKDIR") expect(line.args).toMatch(/^\//);
      expect(line.keyword).not.toBe("ADD");
    }
  });

  it("ships built JavaScript and production dependencies only", () => {
    const app = stage("app");
    expect(app.lines.find((l) => l.keyword === "CMD")?.args).toMatch(/"node", .*"dist\/backend\.mjs"/);
    expect(app.lines.filter((l) => l.keyword === "COPY").map((l) => l.args)).toEqual(expect.arrayContaining([expect.stringMatching(/^--from=deps .*node_modules/)]));
    expect(stage("deps").lines.map((l) => l.args).join("\n")).toMatch(/npm ci --omit=dev/);
    for (const line of instructions.filter((l) => l.keyword === "CMD")) expect(line.args).not.toMatch(/\btsx\b|npm run/);
  });
});
