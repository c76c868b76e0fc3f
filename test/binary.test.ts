// dist/mosaic end to end: the embedded default, a real site (and its YAML twin) vs Apache, flags, SIGTERM.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { freePort, tempDir } from "./helpers.ts";

const REPO = path.resolve(import.meta.dir, "..");
const SITE = path.join(import.meta.dir, "fixtures/site");
/** Apache 2.4.71's answers to the requests below on fixtures/site/httpd.conf (captured with apache2). */
interface Answer {
  method: string;
  path: string;
  host: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}
const APACHE: Answer[] = JSON.parse(fs.readFileSync(path.join(SITE, "apache-answers.json"), "utf8"));
const COMPARED = [
  "content-type",
  "content-length",
  "location",
  "cache-control",
  "allow",
  "x-site",
  "x-vhost",
];

/** Where mosaic knowingly differs from the captured answer; each entry names the owner to fix. */
const KNOWN: Record<string, { why: string; skip: ("body" | "content-type" | "content-length")[] }> = {
  "GET /docs/ www.example.test": {
    why: "autoindex renders a FancyIndexing table in UTF-8; Apache's default is a plain <ul> in ISO-8859-1",
    skip: ["body", "content-type", "content-length"],
  },
  "GET /docs/sub/ www.example.test": {
    why: "the same listing difference",
    skip: ["body", "content-type", "content-length"],
  },
  "GET /missing.html blog.example.test": {
    why: "a failing ErrorDocument lacks Apache's 'Additionally, a 404 Not Found error ...' paragraph",
    skip: ["body", "content-length"],
  },
  "GET /docs/a.txt blog.example.test": {
    why: "the same missing 'Additionally' paragraph",
    skip: ["body", "content-length"],
  },
};

/** dist/mosaic, rebuilt unless it is newer than every source file (build.ts takes well under a second). */
function ensureBinary(): string {
  const bin = path.join(REPO, "dist/mosaic");
  const newest = (p: string): number => {
    const st = fs.statSync(p);
    if (!st.isDirectory()) return st.mtimeMs;
    return Math.max(0, ...fs.readdirSync(p).map((f) => newest(path.join(p, f))));
  };
  const inputs = ["src", "modules", "conf", "build.ts", "package.json"];
  const sources = inputs.map((p) => newest(path.join(REPO, p)));
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs > Math.max(...sources)) return bin;
  const build = Bun.spawnSync([process.execPath, "build.ts"], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build.ts failed:\n${build.stdout}\n${build.stderr}`);
  return bin;
}

let BIN = "";
const running = new Set<Subprocess>();
beforeAll(() => {
  BIN = ensureBinary();
});
afterAll(async () => {
  for (const p of running) p.kill("SIGKILL");
  await Promise.all([...running].map((p) => p.exited));
});

interface Run {
  proc: Subprocess;
  port: number;
  /** SIGTERM, then the exit code and everything written to stdout and stderr. */
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Starts the binary and waits until its port accepts connections. stdout and stderr go to files: the
 * embedded config logs to /dev/stdout and /dev/stderr, which cannot be opened when they are the
 * socketpairs Bun.spawn uses for "pipe" (ENXIO).
 */
interface StartOptions {
  cwd: string;
  env?: Record<string, string>;
  port: number;
}

async function start(args: string[], opts: StartOptions): Promise<Run> {
  const io = tempDir("mosaic-io-");
  const outFile = path.join(io, "stdout");
  const errFile = path.join(io, "stderr");
  const proc = Bun.spawn([BIN, ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...opts.env },
    stdout: Bun.file(outFile),
    stderr: Bun.file(errFile),
  });
  running.add(proc);
  const read = () => ({ stdout: fs.readFileSync(outFile, "utf8"), stderr: fs.readFileSync(errFile, "utf8") });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(opts.port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      await proc.exited;
      const { stdout, stderr } = read();
      const why = `exit ${proc.exitCode}`;
      throw new Error(`mosaic ${args.join(" ")} did not listen (${why}):\n${stdout}\n${stderr}`);
    }
    await Bun.sleep(25);
  }
  return {
    proc,
    port: opts.port,
    async stop() {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      running.delete(proc);
      return { code, ...read() };
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

/** Runs the binary to completion (the flags that print and exit). */
function run(args: string[], env: Record<string, string> = {}, cwd = tempDir()) {
  const p = Bun.spawnSync([BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** A copy of fixtures/site in a temp dir (the server writes its logs there). */
function siteCopy(): string {
  const dir = tempDir("mosaic-site-");
  fs.cpSync(SITE, dir, { recursive: true });
  fs.mkdirSync(path.join(dir, "logs"));
  return dir;
}

/**
 * One request on its own connection, with the Host header the captured answers used. Raw TCP, not
 * fetch: fetch refuses TRACE and hides how the server framed the answer.
 */
async function ask(port: number, a: Pick<Answer, "method" | "path" | "host">): Promise<Answer> {
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, "127.0.0.1", () =>
      s.write(`${a.method} ${a.path} HTTP/1.1\r\nHost: ${a.host}:${port}\r\nConnection: close\r\n\r\n`),
    );
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("end", () => resolve(Buffer.concat(chunks)));
    s.on("error", reject);
  });
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const lines = text.slice(0, end).split("\r\n");
  const all = new Headers();
  for (const l of lines.slice(1)) all.append(l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim());
  let body = text.slice(end + 4);
  if (all.get("transfer-encoding") === "chunked") body = dechunk(body);
  const headers: Record<string, string> = {};
  for (const k of COMPARED) {
    const v = all.get(k);
    if (v !== null) headers[k] = v.replaceAll(String(port), "${PORT}");
  }
  headers.server = all.get("server") ?? "";
  const status = Number(lines[0]!.split(" ")[1]);
  return { ...a, status, headers, body: body.replaceAll(String(port), "${PORT}") };
}

function dechunk(s: string): string {
  let out = "";
  for (let i = 0; ; ) {
    const eol = s.indexOf("\r\n", i);
    const n = parseInt(s.slice(i, eol), 16);
    if (!n) return out;
    out += s.slice(eol + 2, eol + 2 + n);
    i = eol + 2 + n + 2;
  }
}

describe("no arguments: the embedded default", () => {
  test("serves the welcome page on MOSAIC_PORT and writes nothing in its directory", async () => {
    const cwd = tempDir("mosaic-empty-");
    const port = await freePort();
    const srv = await start([], { cwd, env: { MOSAIC_PORT: String(port) }, port });
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    // ServerTokens OS in the embedded config.
    expect(res.headers.get("server")).toBe("mosaic/0.1.0 (Linux)");
    const page = await res.text();
    expect(page).toContain("<title>mosaic works</title>");
    const missing = await fetch(`http://127.0.0.1:${port}/etc/passwd`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toContain("root:");
    const { code, stdout, stderr } = await srv.stop();
    expect(code).toBe(0);
    // Access log (combined) on stdout, error log on stderr, nothing on disk.
    expect(stdout).toContain(`"GET / HTTP/1.1" 200 ${Buffer.byteLength(page)} "-"`);
    expect(stdout).toContain(`"GET /etc/passwd HTTP/1.1" 404 `);
    expect(stderr).toContain("AH00489: mosaic/0.1.0 (Linux) configured -- resuming normal operations");
    expect(stderr).toContain("AH00491: caught SIGTERM, shutting down");
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});

describe("fixtures/site: httpd.conf and its YAML twin answer as Apache does", () => {
  const answers: Record<"conf" | "yaml", Answer[]> = { conf: [], yaml: [] };
  const stopped: Record<string, { code: number | null; stdout: string; stderr: string; dir: string }> = {};

  beforeAll(async () => {
    await Promise.all(
      (["conf", "yaml"] as const).map(async (kind) => {
        const dir = siteCopy();
        const port = await freePort();
        const file = kind === "conf" ? "httpd.conf" : "site.yaml";
        const env = { SITE_ROOT: dir, SITE_PORT: String(port) };
        const srv = await start(["-f", path.join(dir, file)], { cwd: tempDir(), env, port });
        for (const a of APACHE) answers[kind].push(await ask(port, a));
        stopped[kind] = { ...(await srv.stop()), dir };
      }),
    );
  });

  test("both configurations give identical answers", () => {
    expect(answers.yaml).toEqual(answers.conf);
    expect(answers.conf.length).toBe(APACHE.length);
  });

  for (const [i, want] of APACHE.entries()) {
    const key = `${want.method} ${want.path} ${want.host}`;
    test(`${key} → ${want.status}`, () => {
      const got = answers.conf[i]!;
      const known = KNOWN[key];
      expect(got.status).toBe(want.status);
      // ServerTokens Prod: the product name alone, as Apache sends "Apache".
      expect(got.headers.server).toBe("mosaic");
      for (const k of COMPARED) {
        if (known?.skip.includes(k as "content-type")) continue;
        expect(`${k}: ${got.headers[k]}`).toBe(`${k}: ${want.headers[k]}`);
      }
      if (!known?.skip.includes("body")) expect(got.body).toBe(want.body);
    });
  }

  test("the listings link every entry and the parent (see KNOWN for the format difference)", () => {
    const docs = answers.conf.find((a) => a.path === "/docs/")!;
    expect(docs.body).toContain("<title>Index of /docs</title>");
    for (const href of ["/", "a.txt", "b.txt", "sub/"]) expect(docs.body).toContain(`<a href="${href}">`);
    const sub = answers.conf.find((a) => a.path === "/docs/sub/")!;
    expect(sub.body).toContain(`<a href="/docs/">`);
    expect(sub.body).toContain(`<a href="c.txt">`);
  });

  test("SIGTERM stops it cleanly; the logs have the expected lines", () => {
    for (const kind of ["conf", "yaml"]) {
      const s = stopped[kind]!;
      expect(s.code).toBe(0);
      const access = fs.readFileSync(path.join(s.dir, "logs/access_log"), "utf8").trim().split("\n");
      expect(access.length).toBe(APACHE.length);
      expect(access[0]).toMatch(/^www\.example\.test 127\.0\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 61$/);
      expect(access[3]).toMatch(/^blog\.example\.test 127\.0\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 63$/);
      expect(access).toContainEqual(expect.stringMatching(/"HEAD \/new\.html HTTP\/1\.1" 200 -$/));
      const error = fs.readFileSync(path.join(s.dir, "logs/error_log"), "utf8");
      expect(error).toMatch(/\[mpm_event:notice\] \[pid \d+:tid \d+\] AH00489: mosaic\/0\.1\.0 \(Linux\) configured -- resuming normal operations/);
      expect(error).toContain(`AH00094: Command line: 'mosaic -f ${path.join(s.dir, kind === "conf" ? "httpd.conf" : "site.yaml")}'`);
      expect(error).toContain(`AH01630: client denied by server configuration: ${s.dir}/htdocs/private/secret.txt`);
      expect(error).toContain(`AH00128: File does not exist: ${s.dir}/htdocs/missing.html`);
      expect(error).toMatch(/\[mpm_event:notice\] \[pid \d+:tid \d+\] AH00491: caught SIGTERM, shutting down\n$/);
      expect(s.stdout).toBe("");
    }
  });
});

describe("flags", () => {
  const env = { SITE_ROOT: SITE, SITE_PORT: "18080" };
  const conf = path.join(SITE, "httpd.conf");

  test("-t prints Syntax OK on stderr; a broken config gives AH00526 with file and line, exit 1", () => {
    expect(run(["-t", "-f", conf], env)).toEqual({ code: 0, stdout: "", stderr: "Syntax OK\n" });
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "bad.conf"), "ServerName x\n<Directory /srv>\n  Options +Bogus\n</Directory>\n");
    const r = run(["-t", "-f", path.join(dir, "bad.conf")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`AH00526: Syntax error on line 3 of ${dir}/bad.conf:\nIllegal option Bogus\n`);
  });

  test("-S, -M, -L, -v, -V, -h", () => {
    const s = run(["-S", "-f", conf], env);
    expect(s.code).toBe(0);
    expect(s.stdout).toStartWith(`VirtualHost configuration:\n*:18080                is a NameVirtualHost\n         default server www.example.test (${conf}:59)\n`);
    expect(s.stdout).toContain(`ServerRoot: "${SITE}"\nMain DocumentRoot: "${SITE}/htdocs"\n`);
    const m = run(["-M", "-f", conf], env);
    expect(m.stdout).toStartWith("Loaded Modules:\n core_module (static)\n");
    for (const mod of ["alias_module", "autoindex_module", "headers_module", "authz_host_module"]) {
      expect(m.stdout).toContain(` ${mod} (shared)\n`);
    }
    const l = run(["-L"]);
    expect(l.stdout).toContain("\nAlias (mod_alias.c)\n\ta fakename and a realname, or a realname in a Location\n\tAllowed in *.conf anywhere\n");
    expect(run(["-v"]).stdout).toMatch(/^Server version: mosaic\/0\.1\.0 \(Linux\)\nServer built: {3}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\n$/);
    expect(run(["-V"]).stdout).toContain("Server compiled with....\n");
    const h = run(["-h"]);
    expect(h.stderr).toStartWith("Usage: mosaic [-D name] [-d directory] [-f file]\n");
  });

  test("-t -D DUMP_INCLUDES and -D DUMP_CONFIG", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "main.conf"), "ServerName x\nInclude extra/*.conf\n");
    fs.mkdirSync(path.join(dir, "extra"));
    fs.writeFileSync(path.join(dir, "extra/a.conf"), "<IfDefine HIDE>\nServerAdmin hidden@x\n</IfDefine>\nServerAdmin a@x\n");
    const inc = run(["-d", dir, "-f", "main.conf", "-t", "-D", "DUMP_INCLUDES"]);
    expect(inc.stdout).toBe(`Included configuration files:\n  (*) ${dir}/main.conf\n    (2) ${dir}/extra/a.conf\n`);
    const dump = run(["-d", dir, "-f", "main.conf", "-t", "-D", "DUMP_CONFIG"]);
    expect(dump.stdout).toBe("ServerName x\nServerAdmin a@x\n");
  });

  test("convert: conf → YAML → conf gives the same configuration back", () => {
    const dir = tempDir();
    const yaml = run(["convert", conf]);
    expect(yaml.code).toBe(0);
    fs.writeFileSync(path.join(dir, "site.yaml"), yaml.stdout);
    const back = run(["convert", path.join(dir, "site.yaml")]);
    expect(back.code).toBe(0);
    expect(back.stdout).toBe(run(["convert", "--to", "conf", conf]).stdout);
    const dumped = (f: string) => run(["-t", "-D", "DUMP_CONFIG", "-f", f], env).stdout;
    expect(dumped(path.join(dir, "site.yaml"))).toBe(dumped(conf));
    expect(dumped(path.join(SITE, "site.yaml"))).toBe(dumped(conf));
  });
});
