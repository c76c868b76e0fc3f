// autoindex: what surrounds the listing: preamble, HeaderName above, ReadmeName or signature below.
import fs from "node:fs";
import { escapeHtml } from "../../src/http/errors.ts";
import { signature } from "../../src/http/pipeline.ts";
import type { Request } from "../../src/http/request.ts";
import { lookupUri } from "../../src/http/subreq.ts";
import { IO } from "./config.ts";
import type { AutoindexDir } from "./config.ts";

const DOCTYPE_HTML =
  '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n' +
  "<html>\n";
const DOCTYPE_XHTML =
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
  '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
  '<html xmlns="http://www.w3.org/1999/xhtml">\n';
/**
 * mosaic's addition to Apache's head: usable on a phone without changing the markup scrapers read
 * (a long <pre> scrolls sideways instead of shrinking to illegible).
 */
const VIEWPORT = '  <meta name="viewport" content="width=device-width, initial-scale=1"';
const STYLE =
  "  <style>body{margin:1em;font-family:system-ui,sans-serif}pre{overflow-x:auto}" +
  "table{border-collapse:collapse}th,td{padding:.1em .5em}" +
  "@media (max-width:40em){pre{font-size:.8em}}</style>\n";

const HTML_TYPE = /^(?:text\/html|application\/xhtml\+xml)\s*(?:;|$)/i;
const TEXT_TYPE = /^text\//i;
const HTML_EXT = /\.(?:html?|shtml|xhtml)$/i;
const TEXT_EXT = /(?:\.txt|\/[^./]*)$/i;
const PLAIN_SPECIALS = /[<>&]/g;

/** emit_preamble: DOCTYPE, title, IndexStyleSheet, IndexHeadInsert. */
function preamble(out: string[], d: AutoindexDir, xhtml: boolean, title: string): void {
  const end = xhtml ? " />\n" : ">\n";
  out.push(xhtml ? DOCTYPE_XHTML : DOCTYPE_HTML, " <head>\n  <title>Index of ", title, "</title>\n");
  if (d.styleSheet !== undefined) {
    out.push(`  <link rel="stylesheet" href="${escapeHtml(d.styleSheet)}" type="text/css"${end}`);
  }
  out.push(VIEWPORT, end);
  if (d.styleSheet === undefined) out.push(STYLE);
  if (d.headInsert !== undefined) out.push(d.headInsert);
  out.push(" </head>\n <body>\n");
}

/** do_emit_plain: a text file in <pre>, with only <, > and & escaped. */
function plain(text: string): string {
  const esc = text.replace(PLAIN_SPECIALS, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&amp;"));
  return `<pre>\n${esc}</pre>\n`;
}

interface Include {
  html: boolean;
  text: string;
}

/**
 * Finds HeaderName/ReadmeName as a sub-request (relative to the directory's URL) and reads it when it
 * is a regular file of type text/html or text/*; anything else is ignored, as Apache does.
 */
async function include(r: Request, name: string, args: string): Promise<Include | undefined> {
  const uri = name.startsWith("/") ? name : r.uri.slice(0, r.uri.lastIndexOf("/") + 1) + name;
  const sub = await lookupUri(r, uri, args, true);
  const rr = sub.rr;
  if (sub.status !== 200 || !rr.finfo?.isFile()) return undefined;
  // Without mod_mime nothing typed the file: judge by its name.
  const f = rr.filename;
  const type = rr.contentType ?? (HTML_EXT.test(f) ? "text/html" : TEXT_EXT.test(f) ? "text/plain" : "");
  const html = HTML_TYPE.test(type);
  if (!html && !TEXT_TYPE.test(type)) return undefined;
  try {
    return { html, text: fs.readFileSync(rr.filename, "utf8") };
  } catch {
    return undefined;
  }
}

/**
 * emit_head: an HTML header replaces the preamble (unless SuppressHTMLPreamble leaves it all to the
 * file) and the <h1>; a text header goes in a <pre> after the preamble, also without the <h1>.
 */
export async function emitHead(
  out: string[],
  r: Request,
  d: AutoindexDir,
  opts: number,
  title: string,
): Promise<void> {
  const xhtml = (opts & IO.XHTML) !== 0;
  let amble = true;
  let h1 = true;
  const head = d.header !== undefined ? await include(r, d.header, r.args) : undefined;
  if (head) {
    amble = false;
    h1 = false;
    if (!head.html || !(opts & IO.SuppressHTMLPreamble)) preamble(out, d, xhtml, title);
    out.push(head.html ? head.text : plain(head.text));
  }
  if (amble) preamble(out, d, xhtml, title);
  if (h1) {
    const open = d.styleSheet !== undefined ? '  <h1 id="indextitle">' : "<h1>";
    out.push(`${open}Index of ${title}</h1>\n`);
  }
}

/** emit_tail: the readme (which replaces the signature), then the closing tags. */
export async function emitTail(out: string[], r: Request, d: AutoindexDir, opts: number): Promise<void> {
  let sig = true;
  let post = true;
  const readme = d.readme !== undefined ? await include(r, d.readme, "") : undefined;
  if (readme) {
    sig = false;
    if (readme.html) post = !(opts & IO.SuppressHTMLPreamble);
    out.push(readme.html ? readme.text : plain(readme.text));
  }
  if (sig) out.push(signature(r));
  if (post) out.push("</body></html>\n");
}
