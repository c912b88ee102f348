import { createReadStream } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import type { ObjectInfo, ObjectStore } from "./object-store.ts";

const TEMP_SUFFIX = ".partial";

/**
 * The ObjectStore port on a local folder (the embedded default, `MCS_DATA_DIR/archive`):
 * an object is the file at its key. Writes go to a `.partial` file renamed into place, so a
 * crash never leaves half an object under a real key.
 */
export class FolderObjectStore implements ObjectStore {
  constructor(readonly root: string) {}

  get target(): string {
    return this.root;
  }

  private pathOf(key: string): string {
    if (key === "" || key.startsWith("/") || key.split("/").some((part) => part === ".." || part === "." || part === "") || key.endsWith(TEMP_SUFFIX)) {
      throw new Error(`object key ${JSON.stringify(key)} is not a plain relative path`);
    }
    return join(this.root, ...key.split("/"));
  }

  private async writeVia(key: string, write: (temp: string) => Promise<void>): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.${Date.now()}${TEMP_SUFFIX}`;
    try {
      await write(temp);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    await this.writeVia(key, (temp) => writeFile(temp, body));
  }

  async putFile(key: string, path: string): Promise<void> {
    await this.writeVia(key, (temp) => copyFile(path, temp));
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async getStream(key: string): Promise<Readable | null> {
    return (await this.head(key)) ? createReadStream(this.pathOf(key)) : null;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { key, bytes: info.size, modified_at: info.mtime.toISOString() } : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && !entry.name.endsWith(TEMP_SUFFIX)) {
          const key = relative(this.root, path).split(sep).join("/");
          if (key.startsWith(prefix)) {
            const info = await stat(path);
            found.push({ key, bytes: info.size, modified_at: info.mtime.toISOString() });
          }
        }
      }
    };
    await walk(this.root);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async close(): Promise<void> {}
}
