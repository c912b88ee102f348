import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * The fleet's credentials file: CSV with a header, one device a line, `sn,password`.
 * It holds MQTT passwords the API shows only once, so it is written with mode 0600 and
 * each new device is appended as soon as it is registered.
 */
export function readCreds(path: string): Map<string, string> {
  const creds = new Map<string, string>();
  if (!existsSync(path)) return creds;
  readFileSync(path, "utf8")
    .split(/\r?\n/)
    .forEach((line, i) => {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith("#")) return;
      const [sn, password] = splitCsvLine(trimmed);
      if (i === 0 && sn === "sn" && password === "password") return;
      if (!sn || !password) throw new Error(`${path}:${i + 1}: expected "sn,password"`);
      creds.set(sn, password);
    });
  return creds;
}

export function appendCreds(path: string, sn: string, password: string): void {
  if (!existsSync(path)) writeFileSync(path, "sn,password\n", { mode: 0o600 });
  appendFileSync(path, `${csvField(sn)},${csvField(password)}\n`);
  chmodSync(path, 0o600);
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(field.trim());
      field = "";
    } else field += c;
  }
  fields.push(field.trim());
  return fields;
}
