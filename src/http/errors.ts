// HttpError for requests, and Apache's canned error pages (http_protocol.c get_canned_error_string).

/** Throw from a hook to answer with an error status; ErrorDocument applies. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message?: string,
    readonly headers?: Record<string, string>,
    /** Close the connection after the answer (400, 414, 501 do, as Apache does). */
    readonly close = false,
  ) {
    // A status to answer with, not a fault: no stack trace to capture (a 404 costs less).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? STATUS_TEXT[status] ?? "Error");
    Error.stackTraceLimit = limit;
    this.name = "HttpError";
  }
}

export const STATUS_TEXT: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Request Entity Too Large",
  414: "Request-URI Too Long",
  415: "Unsupported Media Type",
  416: "Requested Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Entity",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  510: "Not Extended",
  511: "Network Authentication Required",
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;",
  );
}

export interface ErrorPageInfo {
  status: number;
  method: string;
  uri: string;
  /** Location for 3xx, Allow for 405 and so on. */
  location?: string;
  serverAdmin?: string;
  /** The `<address>` signature line (ServerSignature), empty when Off. */
  signature: string;
  /** Extra reason for 400 pages (Apache prints it after `<br />`), the Expect value for 417. */
  detail?: string;
  /** Apache's "Additionally, a N error was encountered..." when the ErrorDocument itself failed. */
  additional?: number;
}

/** Apache 2.4's error document body for a status (2.4.71's HTML 4.01 template). */
export function errorPage(info: ErrorPageInfo): string {
  const title = `${info.status} ${STATUS_TEXT[info.status] ?? "Unknown"}`;
  const h1 = STATUS_TEXT[info.status] ?? "Unknown";
  return (
    `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\n<html><head>\n<title>${title}</title>\n` +
    `</head><body>\n<h1>${h1}</h1>\n${cannedMessage(info)}${additional(info)}${info.signature ? `<hr>\n${info.signature}` : ""}` +
    `</body></html>\n`
  );
}

function additional(info: ErrorPageInfo): string {
  if (!info.additional) return "";
  const reason = STATUS_TEXT[info.additional] ?? "Unknown";
  return `<p>Additionally, a ${info.additional} ${reason}\nerror was encountered while trying to use an ErrorDocument to handle the request.</p>\n`;
}

function cannedMessage(info: ErrorPageInfo): string {
  const uri = escapeHtml(info.uri);
  switch (info.status) {
    case 300:
      return "";
    case 303:
      return `<p>The answer to your request is located <a href="${escapeHtml(info.location ?? "")}">here</a>.</p>\n`;
    case 410:
      return "<p>The requested resource is no longer available on this server and there is no forwarding address.\nPlease remove all references to this resource.</p>\n";
    case 301:
    case 302:
    case 307:
    case 308:
      return `<p>The document has moved <a href="${escapeHtml(info.location ?? "")}">here</a>.</p>\n`;
    case 400:
      return (
        "<p>Your browser sent a request that this server could not understand.<br />\n" +
        (info.detail ? `${escapeHtml(info.detail)}\n` : "") +
        "</p>\n"
      );
    case 401:
      return (
        "<p>This server could not verify that you\nare authorized to access the document\n" +
        "requested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\n" +
        "browser doesn't understand how to supply\nthe credentials required.</p>\n"
      );
    case 403:
      return "<p>You don't have permission to access this resource.</p>\n";
    case 404:
      return "<p>The requested URL was not found on this server.</p>\n";
    case 405:
      return `<p>The requested method ${escapeHtml(info.method)} is not allowed for this URL.</p>\n`;
    case 406:
      return `<p>An appropriate representation of the requested resource could not be found on this server.</p>\n`;
    case 408:
      return "<p>Server timeout waiting for the HTTP request from the client.</p>\n";
    case 411:
      return `<p>A request of the requested method ${escapeHtml(info.method)} requires a valid Content-length.<br />\n</p>\n`;
    case 412:
      return `<p>The precondition on the request for this URL evaluated to false.</p>\n`;
    case 413:
      return (
        `The requested resource does not allow request data with ${escapeHtml(info.method)} requests, ` +
        "or the amount of data provided in\nthe request exceeds the capacity limit.\n"
      );
    case 414:
      return "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>\n";
    case 415:
      return "<p>The supplied request data is not in a format\nacceptable for processing by this resource.</p>\n";
    case 416:
      return "<p>None of the range-specifier values in the Range\nrequest-header field overlap the current extent\nof the selected resource.</p>\n";
    case 417:
      return (
        "<p>The expectation given in the Expect request-header\nfield could not be met by this server.\n" +
        `The client sent<pre>\n    Expect: ${escapeHtml(info.detail ?? "")}\n</pre>\n</p><p>Only the 100-continue expectation is supported.</p>\n`
      );
    case 500:
      return (
        "<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\n" +
        `your request.</p>\n<p>Please contact the server administrator at \n ${escapeHtml(info.serverAdmin ?? "[no address given]")} ` +
        "to inform them of the time this error occurred,\n and the actions you performed just before this error.</p>\n" +
        "<p>More information about this error may be available\nin the server error log.</p>\n"
      );
    case 501:
      return `<p>${escapeHtml(info.method)} not supported for current URL.<br />\n</p>\n`;
    case 503:
      return "<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n";
    case 505:
      return "<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n";
    default:
      return `<p>The server encountered an error (${info.status}) while processing ${uri}.</p>\n`;
  }
}
