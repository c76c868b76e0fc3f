// The baseline for bench/run.ts: raw Bun.serve answering the same 4 KB file from memory, 404 otherwise.
// Usage: bun bench/raw-server.ts PORT FILE   (prints "ready" once listening)
import fs from "node:fs";

const [port, file] = process.argv.slice(2);
const body = fs.readFileSync(file!);
const path = "/" + file!.split("/").pop();

Bun.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  development: false,
  fetch(req) {
    // The same work a minimal static server must do: find the path, answer with headers.
    const url = req.url;
    const p = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    if (p === path) return new Response(body, { headers: { "Content-Type": "text/plain" } });
    return new Response("Not Found\n", { status: 404, headers: { "Content-Type": "text/plain" } });
  },
});
process.on("SIGTERM", () => process.exit(0));
console.log("ready");
