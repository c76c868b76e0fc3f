// Response bodies for the default handler, shaped so Bun adds nothing Apache would not send.
import fs from "node:fs";

/**
 * Ranges and files up to this size are read into memory when sendfile is not usable (so the answer keeps
 * its Content-Length); larger ones stream in chunks, which Bun 1.4.5 frames as chunked (oven-sh/bun#10507).
 */
export const READ_MAX = 2 * 1024 * 1024;
const CHUNK = 256 * 1024;

/**
 * Whether a `Bun.file` body can carry this Content-Type as it is. Bun adds `content-disposition:
 * filename="..."` to file bodies unless the type is one browsers render (text, image, audio, video, font,
 * JSON, wasm), and it applies the request's Range header itself to a 200; both would break Apache's answer.
 */
export function sendfileSafe(ct: string): boolean {
  const slash = ct.indexOf("/");
  switch (ct.slice(0, slash)) {
    case "text":
    case "image":
    case "audio":
    case "video":
    case "font":
      return true;
    case "application": {
      const semi = ct.indexOf(";");
      const sub = ct.slice(slash + 1, semi < 0 ? ct.length : semi).trim();
      return sub === "json" || sub === "wasm";
    }
    default:
      return false;
  }
}

/**
 * A body of bytes. With a Content-Type it is the bytes themselves; without one it is a finished stream,
 * because Bun labels a bare byte body `application/octet-stream` where Apache sends no type at all.
 */
export function bytesBody(bytes: Uint8Array, typed: boolean): Bun.BodyInit {
  if (typed) return bytes;
  return new ReadableStream<Uint8Array>({
    start(c) {
      if (bytes.length) c.enqueue(bytes);
      c.close();
    },
  });
}

/** Copies `into.length` bytes of `path` from `start` (synchronously: only for at most READ_MAX bytes). */
export function readInto(path: string, start: number, into: Uint8Array): void {
  const fd = fs.openSync(path, "r");
  try {
    let got = 0;
    while (got < into.length) {
      const n = fs.readSync(fd, into, got, into.length - got, start + got);
      if (n === 0) throw new Error(`${path}: file shrank while being read`);
      got += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Bytes [start, end] (inclusive) of a file, read in chunks without blocking the event loop. */
export async function* fileChunks(path: string, start: number, end: number): AsyncGenerator<Uint8Array> {
  const fh = await fs.promises.open(path, "r");
  try {
    for (let pos = start; pos <= end; ) {
      const buf = new Uint8Array(Math.min(CHUNK, end + 1 - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** A pull stream over an async iterator (closed early when the client goes away). */
export function iteratorStream(it: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { value, done } = await it.next();
      if (done) c.close();
      else c.enqueue(value);
    },
    async cancel() {
      await it.return(undefined);
    },
  });
}
