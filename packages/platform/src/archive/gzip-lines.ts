import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { PassThrough, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";

/** What a written file holds: its size, checksum and the text's size before compression. */
export interface WrittenFile {
  bytes: number;
  rawBytes: number;
  sha256: string;
}

/**
 * Lines of text into a gzip file, streamed (the writer waits when gzip is behind, so a day
 * of readings never sits in memory), with the compressed file's SHA-256 taken on the way.
 */
export class GzipLineWriter {
  private readonly gzip = createGzip({ level: 6 });
  private readonly hash = createHash("sha256");
  private bytes = 0;
  private rawBytes = 0;
  private readonly done: Promise<void>;

  constructor(path: string) {
    const count = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        callback(null, chunk);
      },
    });
    this.done = pipeline(this.gzip, count, createWriteStream(path));
    // A write error surfaces from finish(); until then, do not let it go unhandled.
    this.done.catch(() => undefined);
  }

  async line(text: string): Promise<void> {
    const chunk = `${text}\n`;
    this.rawBytes += Buffer.byteLength(chunk);
    if (!this.gzip.write(chunk)) await Promise.race([once(this.gzip, "drain"), this.done]);
  }

  async finish(): Promise<WrittenFile> {
    this.gzip.end();
    await this.done;
    return { bytes: this.bytes, rawBytes: this.rawBytes, sha256: this.hash.digest("hex") };
  }
}

/** The lines of a gzip stream, decompressed as they are read. */
export async function* gunzipLines(stream: Readable): AsyncGenerator<string> {
  const text = new PassThrough();
  const piping = pipeline(stream, createGunzip(), text);
  piping.catch((error) => text.destroy(error));
  const lines = createInterface({ input: text, crlfDelay: Infinity });
  for await (const line of lines) yield line;
  await piping;
}

/** Size and SHA-256 of a stream's bytes, read through once. */
export async function digestOf(stream: Readable): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest("hex") };
}
