// welcome: the embedded "It works!"-style page the default config serves without reading any file.
import { defineModule, DECLINED } from "../../src/module.ts";
import { HttpError } from "../../src/http/errors.ts";
import type { Request } from "../../src/http/request.ts";
import welcomeHtml from "../../conf/welcome.html" with { type: "text" };

// bun-types types *.html imports as HTML bundles; with type "text" it is the file's text.
const page = welcomeHtml as unknown as string;

export default defineModule({
  name: "welcome",
  description: "Serves mosaic's embedded welcome page (SetHandler welcome-page)",
  hooks: {
    handler: { handles: ["welcome-page"], fn(r: Request) {
      if (r.handler !== "welcome-page") return DECLINED;
      if (r.uri !== "/" && r.uri !== "/index.html") throw new HttpError(404);
      if (r.method !== "GET" && r.method !== "HEAD") throw new HttpError(405, undefined, { Allow: "GET,HEAD,OPTIONS" });
      r.contentType = "text/html; charset=utf-8";
      return r.respond(page);
    } },
  },
});
