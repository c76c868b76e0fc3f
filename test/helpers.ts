// Test helpers: in-process servers from inline config text on ephemeral ports, raw TCP, temp dirs.
import { afterAll, beforeAll, expect } from "bun:test";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { startServer } from "../src/server.ts";
import type { RunningServer } from "../src/server.ts";

export interface TestServer extends AsyncDisposable {
  url: string;
  port: number;
  server: RunningServer;
  /** Graceful in-place reload with new config text. */
  reload(conf: string): Promise<void>;
  /** Warnings the config produced. */
  warnings: string[];
}

/**
 * Starts mosaic in-process on `conf` (httpd.conf text). `Listen` defaults to 127.0.0.1:0 when the text
 * has none; `root` is ServerRoot (a fresh temp dir by default).
 */
export async function startTestServer(conf: string, opts: { root?: string; yaml?: boolean } = {}): Promise<TestServer> {
  const root = opts.root ?? tempDir();
  // Apache's default ErrorLog is logs/error_log under ServerRoot, and it must be able to open it.
  fs.mkdirSync(path.join(root, "logs"), { recursive: true });
  const text = /^\s*Listen\b/im.test(conf) || opts.yaml ? conf : `Listen 127.0.0.1:0\n${conf}`;
  const warnings: string[] = [];
  const server = await startServer(
    { text, file: path.join(root, opts.yaml ? "test.yaml" : "test.conf"), serverRoot: root, env: {} },
    {},
    (m) => warnings.push(m),
  );
  const port = server.ports[0]!;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    warnings,
    reload: (c: string) =>
      server.reload({ text: /^\s*Listen\b/im.test(c) ? c : `Listen 127.0.0.1:0\n${c}` }),
    async [Symbol.asyncDispose]() {
      await server.stop(true);
    },
  };
}

export function tempDir(prefix = "mosaic-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes files under dir: `{ "htdocs/a.txt": "hello" }`. */
export function writeTree(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

/**
 * Sends raw bytes over TCP and returns everything the server sent until it closed the connection or
 * `waitMs` of silence passed.
 */
export function rawRequest(port: number, data: string | Uint8Array, waitMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, "127.0.0.1", () => sock.write(data));
    let timer = setTimeout(() => sock.end(), waitMs);
    sock.on("data", (d: Buffer) => {
      chunks.push(d);
      clearTimeout(timer);
      timer = setTimeout(() => sock.end(), waitMs);
    });
    sock.on("error", (e) => (chunks.length ? resolve(Buffer.concat(chunks).toString("latin1")) : reject(e)));
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
  });
}

/** The status code of the first response in a raw reply, or 0 when there was none. */
export function statusOf(raw: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}

/** An unused TCP port on 127.0.0.1 (for spawning the binary, which must be told its port). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One server for a whole test file: started before its first test, stopped after its last. The value
 * reads through to the running server (`srv.url`, `srv.port`, ...).
 */
export function useServer(conf: string, opts: { root?: string; yaml?: boolean } = {}): TestServer {
  let running: TestServer | undefined;
  beforeAll(async () => {
    running = await startTestServer(conf, opts);
  });
  afterAll(async () => {
    await running?.[Symbol.asyncDispose]();
  });
  return new Proxy({} as TestServer, { get: (_, key) => Reflect.get(running!, key) });
}

/** Asserts that `directive` (with a fresh DocumentRoot) is refused with `message`. */
export async function expectConfigError(directive: string, message: string): Promise<void> {
  const r = tempDir();
  await expect(startTestServer(`DocumentRoot ${r}\n${directive}\n`, { root: r })).rejects.toThrow(message);
}
