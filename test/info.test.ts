// mod_info on a live in-process server: modules, directives with file:line, hooks in run order, settings.
import { describe, expect, test } from "bun:test";
import { lineField } from "../modules/info/walk.ts";
import { startTestServer, tempDir, writeTree } from "./helpers.ts";

function site() {
  const root = tempDir();
  writeTree(root, { "htdocs/index.html": "hi\n" });
  const conf = [
    "ServerName info.test",
    `DocumentRoot ${root}/htdocs`,
    "ExtendedStatus On",
    'AddModuleInfo mod_status.c "<b>Monitored by ops</b>"',
    "ThreadsPerChild 10",
    "<Location /server-status>",
    "  SetHandler server-status",
    "</Location>",
    "<Location /server-info>",
    "  SetHandler server-info",
    "  <RequireAny>",
    "    Require ip 127.0.0.1",
    "  </RequireAny>",
    "</Location>",
    "",
  ].join("\n");
  return { root, conf, file: `${root}/test.conf` };
}

async function page(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/html; charset=ISO-8859-1");
  return res.text();
}

describe("/server-info", () => {
  test("the full page: subpages, sections, every loaded module linked", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    const html = await page(`${srv.url}/server-info`);
    expect(html).toContain("<title>Server Information</title>");
    expect(html).toContain('<body><h1 style="text-align: center">Apache Server Information</h1>\n');
    expect(html).toContain('<a href="?config">Configuration Files</a>, <a href="?server">Server Settings</a>, <a href="?list">Module List</a>,  <a href="?hooks">Active Hooks</a>');
    expect(html).toContain('<dl><dt><tt>Loaded Modules: <br /><a href="#core.c">core.c</a>, <a href="#mod_so.c">mod_so.c</a>, <a href="#event.c">event.c</a>, ');
    expect(html).toContain('<h2><a name="server">Server Settings</a></h2>');
    expect(html).toContain('<h2><a name="request_hooks">Request Hooks</a></h2>');
    // Module blocks follow, one per loaded module, each with its directives.
    expect(html).toContain('<dl><dt><a name="mod_status.c"><strong>Module Name:</strong></a> <font size="+1"><tt><a href="?mod_status.c">mod_status.c</a></tt></font></dt>');
    const loaded = /Loaded Modules: <br \/>(.*?)<\/tt>/.exec(html)![1]!.split(", ");
    expect(loaded.length).toBeGreaterThan(20);
    expect(html.split("<strong>Module Name:</strong>").length - 1).toBe(loaded.length);
    expect(html).toContain('<p><a href="/server-status">Server status</a></p>');
  });

  test("?mod_status.c: handlers, hooks, directives with help, where they are configured, AddModuleInfo", async () => {
    const { root, conf, file } = site();
    await using srv = await startTestServer(conf, { root });
    const html = await page(`${srv.url}/server-info?mod_status.c`);
    expect(html).toContain("<dt><strong>Content handlers:</strong> <tt> <em>yes</em></tt></dt>");
    expect(html).toContain("<dt><strong>Request Phase Participation:</strong>\n<tt>Content Handlers</tt>, <tt>Logging</tt></dt>");
    expect(html).toContain("<dd><tt>ExtendedStatus - <i>&quot;On&quot; to track extended status information, &quot;Off&quot; to disable</i></tt></dd>");
    expect(html).toContain(
      `<dt><strong>Current Configuration:</strong></dt>\n<dd><tt><strong>In file: ${file}</strong></tt></dd>\n` +
        "<dd><tt>&nbsp;&nbsp;&nbsp;4:&nbsp;ExtendedStatus <i>On</i></tt></dd>\n",
    );
    expect(html).toContain("<dt><strong>Additional Information:</strong>\n</dt><dd><b>Monitored by ops</b></dd>");
    // Matched whole and without regard to case, as mod_info does; one module only.
    expect(await page(`${srv.url}/server-info?MOD_STATUS.C`)).toContain('<a name="mod_status.c">');
    expect((await page(`${srv.url}/server-info?mod_status.c`)).split("Module Name:").length).toBe(2);
    expect(await page(`${srv.url}/server-info?mod_nothing.c`)).toContain("<p><b>No such module</b></p>\n");
  });

  test("a section directive shows its enclosing sections and their closers", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    const html = await page(`${srv.url}/server-info?mod_authz_core.c`);
    expect(html).toContain(
      // Line 1 is the Listen the test helper adds. Apache prints `<RequireAny >`: directive, space, args.
      "<dd><tt>&nbsp;&nbsp;10:&nbsp;&lt;Location /server-info&gt;</tt></dd>\n" +
        "<dd><tt>&nbsp;&nbsp;12:&nbsp;&nbsp;&nbsp;&lt;RequireAny &gt;</tt></dd>\n" +
        "<dd><tt>&nbsp;&nbsp;13:&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;Require <i>ip 127.0.0.1</i></tt></dd>\n" +
        "<dd><tt>&nbsp;&nbsp;&nbsp;&nbsp;:&nbsp;&nbsp;&nbsp;&lt;/RequireAny&gt;</tt></dd>" +
        "<dd><tt>&nbsp;&nbsp;&nbsp;&nbsp;:&nbsp;&lt;/Location&gt;</tt></dd>",
    );
  });

  test("?config: the whole tree with file and line; ?list; ?server with the MPM's settings", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    const cfg = await page(`${srv.url}/server-info?config`);
    expect(cfg).toContain("<dl><dt><strong>Configuration:</strong>\n<dd><tt><strong>In file: ");
    expect(cfg).toContain("<dd><tt>&nbsp;&nbsp;&nbsp;1:&nbsp;Listen <i>127.0.0.1:0</i></tt></dd>\n<dd><tt>&nbsp;&nbsp;&nbsp;2:&nbsp;ServerName <i>info.test</i></tt></dd>\n");
    expect(cfg).toContain("<dd><tt>&nbsp;&nbsp;&nbsp;5:&nbsp;AddModuleInfo <i>mod_status.c &quot;&lt;b&gt;Monitored by ops&lt;/b&gt;&quot;</i></tt></dd>\n");
    expect(cfg).not.toContain("Module Name:");
    const list = await page(`${srv.url}/server-info?list`);
    expect(list).toContain("<dl><dt>Server Module List</dt><dd>core.c</dd><dd>mod_so.c</dd><dd>event.c</dd>");
    expect(list).toContain("<dd>mod_info.c</dd>");
    const server = await page(`${srv.url}/server-info?server`);
    expect(server).toContain("<dt><strong>MPM Name:</strong> <tt>event</tt></dt>");
    expect(server).toContain("<dt><strong>MPM Information:</strong> <tt>Max Daemons: 16 Threaded: yes Forked: no</tt></dt>");
    expect(server).toMatch(/<dt><strong>MPM Settings:<\/strong> <tt>StartServers 3, ServerLimit 16, ThreadLimit 64, ThreadsPerChild 10, MaxRequestWorkers 160,/);
    expect(server).toContain("<dt><strong>Timeouts:</strong> <tt>connection: 60 &nbsp;&nbsp; keep-alive: 5</tt></dt>");
    expect(server).toContain(`<dt><strong>Server Root:</strong> <tt>${root}</tt></dt>`);
    expect(server).not.toContain("Module Name:");
  });

  test("?hooks: every phase's hooks in run order with their order values", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    const html = await page(`${srv.url}/server-info?hooks`);
    expect(html).toContain('<h2><a name="startup_hooks">Startup Hooks</a></h2>');
    const handlers = /<strong>Content Handlers:<\/strong>\n <br \/><tt>\n([^\n]*)\n/.exec(html)![1]!;
    const order = [...handlers.matchAll(/&nbsp;&nbsp; (-?\d+) <a href="\?([^"]+)">/g)].map((m) => [Number(m[1]), m[2]] as const);
    expect(order.some(([, m]) => m === "mod_status.c")).toBe(true);
    expect(order.at(-1)).toEqual([30, "core.c"]);
    for (let i = 1; i < order.length; i++) expect(order[i]![0]).toBeGreaterThanOrEqual(order[i - 1]![0]);
    const logging = /<strong>Logging:<\/strong>\n <br \/><tt>\n([^\n]*)\n/.exec(html)![1]!;
    expect(logging).toContain('30 <a href="?mod_status.c">mod_status.c</a>');
    expect(html).not.toContain("Module Name:");
  });

  test("GET and HEAD only; AddModuleInfo takes two arguments", async () => {
    const { root, conf } = site();
    await using srv = await startTestServer(conf, { root });
    expect((await fetch(`${srv.url}/server-info`, { method: "POST", body: "" })).status).toBe(404);
    const head = await fetch(`${srv.url}/server-info?list`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    await expect(startTestServer("AddModuleInfo mod_x.c\n")).rejects.toThrow(/AddModuleInfo takes two arguments/);
  });

  test("line numbers right-aligned in four columns as put_int_flush_right pads them", () => {
    expect(lineField(7)).toBe("&nbsp;&nbsp;&nbsp;7");
    expect(lineField(105)).toBe("&nbsp;105");
    expect(lineField(0)).toBe("&nbsp;&nbsp;&nbsp;&nbsp;");
    expect(lineField(12345)).toBe("12345");
  });
});
