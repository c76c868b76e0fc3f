// autoindex: the listing itself as Apache's output_directories writes it (list, <pre> or table).
import { escapeHtml } from "../../src/http/errors.ts";
import { DEFAULT_DESC_WIDTH, DEFAULT_NAME_WIDTH, IO } from "./config.ts";
import type { AutoindexDir } from "./config.ts";
import type { Entry } from "./entries.ts";
import { findItem } from "./entries.ts";
import { entryHref, fitName, formatDate, strfsize, terminateDescription } from "./format.ts";

export interface ListingView {
  d: AutoindexDir;
  opts: number;
  /** Current sort column (N, M, S, D) and direction (A, D), for the header links. */
  key: string;
  direction: string;
  /** F=, V= and P= carried into the column links, e.g. ";F=2;P=*.txt". */
  colargs: string;
}

/** What every row needs, worked out once per listing. */
interface Layout extends ListingView {
  /** The name column's width and that many spaces to pad with. */
  width: number;
  pad: string;
  xhtml: boolean;
  old: boolean;
  cut: (desc: string) => string;
}

const BLANK = "^^BLANKICON^^";
/** Stands in for an unknown date (the parent's): observed 19 spaces, one more than a date takes. */
const NO_DATE = " ".repeat(19);

/** Appends the listing's HTML to `out`, entries already sorted. */
export function renderListing(out: string[], entries: readonly Entry[], v: ListingView): void {
  const { d, opts } = v;
  const table = (opts & IO.HTMLTable) !== 0;
  const fancy = (opts & IO.FancyIndexing) !== 0;
  let width = d.nameWidth.kind === "fixed" ? d.nameWidth.n : DEFAULT_NAME_WIDTH;
  let descWidth = d.descWidth.kind === "fixed" ? d.descWidth.n : DEFAULT_DESC_WIDTH;
  // NameWidth=* / DescriptionWidth=* fit the longest entry, in the <pre> layout only.
  if (fancy && !table) {
    for (const e of entries) {
      if (d.nameWidth.kind === "adjust") width = Math.max(width, e.name.length);
      if (d.descWidth.kind === "adjust" && e.desc) descWidth = Math.max(descWidth, e.desc.length);
    }
  }
  // Without DescriptionWidth, a description may use the room of suppressed columns.
  if (d.descWidth.kind === "unset") {
    if (opts & IO.SuppressIcon) descWidth += 6;
    if (opts & IO.SuppressLastModified) descWidth += 19;
    if (opts & IO.SuppressSize) descWidth += 7;
  }
  const whole = d.descWidth.kind === "adjust" && table;
  const layout: Layout = {
    ...v,
    width,
    pad: " ".repeat(width),
    xhtml: (opts & IO.XHTML) !== 0,
    old: (opts & IO.UseOldDateFormat) !== 0,
    cut: (desc) => (whole ? desc : terminateDescription(desc, descWidth)),
  };
  if (table) renderTable(out, entries, layout);
  else if (fancy) renderPre(out, entries, layout);
  else {
    out.push("<ul>");
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      out.push(`<li><a href="${entryHref(e.name)}"> ${escapeHtml(label(e, i))}</a></li>\n`);
    }
    out.push("</ul>\n");
  }
}

const label = (e: Entry, i: number): string => (i === 0 && e.parent ? "Parent Directory" : e.name);

/** emit_link: a column title that sorts by it, the current column's link reversing the order. */
function link(label: string, column: string, v: ListingView): string {
  if (v.opts & IO.SuppressColumnSorting) return label;
  const dir = v.key === column && v.direction === "A" ? "D" : "A";
  return `<a href="?C=${column};O=${dir}${v.colargs}">${label}</a>`;
}

function img(src: string, alt: string, l: Layout): string {
  const w = l.d.iconWidth ? ` width="${l.d.iconWidth}"` : "";
  const h = l.d.iconHeight ? ` height="${l.d.iconHeight}"` : "";
  return `<img src="${escapeHtml(src)}" alt="${escapeHtml(alt)}"${w}${h}${l.xhtml ? " /" : ""}>`;
}

/** The entry's icon, else DefaultIcon; `none` when neither exists. */
function icon(e: Entry, l: Layout, none: string): string {
  const src = e.icon ?? l.d.defaultIcon;
  return src !== undefined ? img(src, `[${e.alt ?? "   "}]`, l) : none;
}

function renderPre(out: string[], entries: readonly Entry[], l: Layout): void {
  const { opts } = l;
  const hr = l.xhtml ? "<hr />" : "<hr>";
  out.push("<pre>");
  if (!(opts & IO.SuppressIcon)) {
    const blank = findItem(l.d.icons, BLANK);
    out.push(blank !== undefined ? `${img(blank, "Icon ", l)} ` : "      ");
  }
  out.push(link("Name", "N", l), l.pad.slice(4), " ");
  if (!(opts & IO.SuppressLastModified)) out.push(link("Last modified", "M", l), "      ");
  if (!(opts & IO.SuppressSize)) out.push(link("Size", "S", l), "  ");
  if (!(opts & IO.SuppressDescription)) out.push(link("Description", "D", l));
  out.push(opts & IO.SuppressRules ? "\n" : hr);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const href = entryHref(e.name);
    if (!(opts & IO.SuppressIcon)) {
      if (opts & IO.IconsAreLinks) out.push(`<a href="${href}">`, icon(e, l, "     "), "</a> ");
      else out.push(icon(e, l, "     "), " ");
    }
    const name = fitName(label(e, i), l.width);
    out.push(`<a href="${href}">${escapeHtml(name)}</a>`, l.pad.slice(name.length), " ");
    if (!(opts & IO.SuppressLastModified)) out.push(e.lm !== -1 ? formatDate(e.lm, l.old) : NO_DATE);
    if (!(opts & IO.SuppressSize)) out.push(strfsize(e.size), "  ");
    if (!(opts & IO.SuppressDescription) && e.desc !== undefined) out.push(l.cut(e.desc));
    out.push("\n");
  }
  out.push(opts & IO.SuppressRules ? "</pre>\n" : `${hr}</pre>\n`);
}

function renderTable(out: string[], entries: readonly Entry[], l: Layout): void {
  const { opts } = l;
  // With IndexStyleSheet, cells carry classes instead of presentational attributes.
  const ss = l.d.styleSheet !== undefined;
  const cls = (name: string, plain = ""): string => (ss ? ` class="${name}"` : plain);
  const right = ' align="right"';
  let cols = 1;
  out.push(`  <table${ss ? ' id="indexlist"' : ""}>\n   <tr${cls("indexhead")}>`);
  if (!(opts & IO.SuppressIcon)) {
    const blank = findItem(l.d.icons, BLANK);
    const cell = blank !== undefined ? img(blank, "[ICO]", l) : "&nbsp;";
    out.push(`<th${cls("indexcolicon", ' valign="top"')}>${cell}</th>`);
    cols++;
  }
  out.push(`<th${cls("indexcolname")}>`, link("Name", "N", l));
  const columns: [number, string, string, string][] = [
    [IO.SuppressLastModified, "indexcollastmod", "Last modified", "M"],
    [IO.SuppressSize, "indexcolsize", "Size", "S"],
    [IO.SuppressDescription, "indexcoldesc", "Description", "D"],
  ];
  for (const [suppress, name, title, key] of columns) {
    if (opts & suppress) continue;
    out.push(`</th><th${cls(name)}>`, link(title, key, l));
    cols++;
  }
  const rule = `<th colspan="${cols}"><hr${l.xhtml ? " /" : ""}></th>`;
  const breakrow = opts & IO.SuppressRules ? "" : `   <tr${cls("indexbreakrow")}>${rule}</tr>\n`;
  out.push("</th></tr>\n", breakrow);
  const adjust = l.d.nameWidth.kind === "adjust";
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const href = entryHref(e.name);
    if (ss) {
      const parity = i % 2 ? "odd" : "even";
      const alt = opts & IO.AddAltClass && e.alt !== undefined ? `-${e.alt.toLowerCase()}` : "";
      out.push(`   <tr class="${parity}${escapeHtml(alt)}">`);
    } else out.push("<tr>");
    if (!(opts & IO.SuppressIcon)) {
      const links = (opts & IO.IconsAreLinks) !== 0;
      out.push(`<td${cls("indexcolicon", ' valign="top"')}>`, links ? `<a href="${href}">` : "");
      out.push(icon(e, l, "&nbsp;"), links ? "</a></td>" : "</td>");
    }
    // NameWidth=* in a table: the cell takes the whole name, unpadded
    const name = adjust ? label(e, i) : fitName(label(e, i), l.width);
    out.push(`<td${cls("indexcolname")}><a href="${href}">${escapeHtml(name)}</a>`);
    if (!adjust) out.push(l.pad.slice(name.length));
    if (!(opts & IO.SuppressLastModified)) {
      if (e.lm !== -1) out.push(`</td><td${cls("indexcollastmod", right)}>`, formatDate(e.lm, l.old));
      else out.push(`</td><td${cls("indexcollastmod")}>&nbsp;`);
    }
    if (!(opts & IO.SuppressSize)) out.push(`</td><td${cls("indexcolsize", right)}>`, strfsize(e.size));
    if (!(opts & IO.SuppressDescription)) {
      out.push(`</td><td${cls("indexcoldesc")}>`, e.desc !== undefined ? l.cut(e.desc) : "&nbsp;");
    }
    out.push("</td></tr>\n");
  }
  out.push(breakrow, "</table>\n");
}
