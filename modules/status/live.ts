// The status page's shell: stylesheet, links between the views, and the live panel (inline, offline-safe).
import { escapeHtml } from "./format.ts";

const STYLE = `<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
:root{color-scheme:light dark;--fg:#1d2330;--mut:#667085;--bg:#fff;--card:#f4f6f9;--line:#d8dde6;--acc:#2563eb;--ok:#16a34a;--warn:#d97706;--bad:#dc2626}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--mut:#98a2b3;--bg:#12151b;--card:#1b2029;--line:#2c3340;--acc:#60a5fa}}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:.75rem;max-width:110rem}
h1{font-size:1.25rem;margin:.25rem 0 .5rem}h2{font-size:1.05rem}
a{color:var(--acc)}
nav.views{display:flex;flex-wrap:wrap;gap:.35rem;margin:0 0 .75rem}
nav.views a{padding:.2rem .6rem;border:1px solid var(--line);border-radius:999px;text-decoration:none;font-size:.85rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:.5rem;margin-bottom:.5rem}
.tile{background:var(--card);border-radius:.5rem;padding:.45rem .65rem}
.tile .k{display:block;color:var(--mut);font-size:.75rem;text-transform:uppercase;letter-spacing:.04em}
.tile .v{font-size:1.35rem;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr));gap:.5rem}
.charts figure{margin:0;background:var(--card);border-radius:.5rem;padding:.4rem .6rem}
.charts figcaption{font-size:.8rem;color:var(--mut);display:flex;justify-content:space-between}
.charts svg{width:100%;height:5.5rem;display:block}
.charts path{stroke-width:1.5;vector-effect:non-scaling-stroke}
.s0,.s1{fill:none}.s0{stroke:var(--acc)}.s1{stroke:var(--mut)}
.a0,.a1{stroke:none}.a0{fill:var(--acc);fill-opacity:.14}.a1{fill:var(--mut);fill-opacity:.1}
#grid{display:block;margin:.6rem 0 .25rem;max-width:100%}
.legend{font-size:.78rem;color:var(--mut);display:flex;flex-wrap:wrap;gap:.25rem .8rem}
.legend i{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin-right:.25rem;vertical-align:-1px}
#live-status{font-size:.8rem;color:var(--mut);margin:.25rem 0 1rem}
#report pre{overflow-x:auto}
#report table{display:block;overflow-x:auto;max-width:100%;border-collapse:collapse;font-size:.85rem}
#report td,#report th{padding:.1rem .4rem;white-space:nowrap}
#report table[border="0"] tr:nth-child(even){background:var(--card)}
dl{margin:.4rem 0}hr{border:0;border-top:1px solid var(--line)}
</style>
`;

/** What goes into `<head>` after the title: viewport and stylesheet (no external fonts or scripts). */
export function liveHead(): string {
  return STYLE;
}

/** Scoreboard colours by state, shared by the legend and the canvas. */
const COLORS: [string, string, string][] = [
  ["_", "#9ca3af", "idle"], ["W", "#2563eb", "reply"], ["R", "#eab308", "read"], ["K", "#14b8a6", "keep-alive"],
  ["C", "#f97316", "closing"], ["L", "#a855f7", "logging"], ["G", "#dc2626", "graceful"], ["S", "#16a34a", "starting"],
  ["D", "#0ea5e9", "dns"], ["I", "#78716c", "idle cleanup"], [".", "#e5e7eb", "open slot"],
];

/**
 * The links between the views and the live panel: tiles, three charts and a coloured scoreboard, kept
 * current by polling `?json` every 2 s; the Apache report below it is swapped in place every 10 s.
 * Without script (or with `?refresh`, which reloads anyway) the panel stays as rendered.
 */
export function livePanel(path: string, live: boolean, tiles: Record<string, string>, infoPath?: string): string {
  const p = escapeHtml(path);
  const links = [
    [p, "Live"], [`${p}?notable`, "Details (no tables)"], [`${p}?refresh=5`, "Reload every 5 s"],
    [`${p}?auto`, "?auto"], [`${p}?json`, "?json"], [`${p}?metrics`, "?metrics"],
  ];
  if (infoPath) links.push([escapeHtml(infoPath), "Server info"]);
  const nav = `<nav class="views">${links.map(([h, t]) => `<a href="${h}">${t}</a>`).join("")}</nav>\n`;
  const tile = (id: string, k: string) =>
    `<div class="tile"><span class="k">${k}</span><span class="v" id="t-${id}">${tiles[id] ?? "-"}</span></div>`;
  const fig = (id: string, cap: string) =>
    `<figure><figcaption><span>${cap}</span><span id="m-${id}"></span></figcaption><svg id="c-${id}" viewBox="0 0 300 80" preserveAspectRatio="none"></svg></figure>`;
  const legend = COLORS.map(([c, col, name]) => `<span><i style="background:${col}"></i>${escapeHtml(c)} ${name}</span>`).join("");
  return (
    nav +
    '<div id="live">\n<div class="tiles">' +
    tile("rps", "Req/s") + tile("bps", "Traffic/s") + tile("busy", "Busy") + tile("idle", "Idle") +
    tile("conns", "Conns") + tile("acc", "Accesses") + tile("up", "Uptime") +
    "</div>\n<div class=\"charts\">" +
    fig("rps", "req/s") + fig("workers", "busy (blue) / idle (grey) workers") + fig("conns", "connections") +
    "</div>\n" +
    `<canvas id="grid" width="640" height="40"></canvas><div class="legend">${legend}</div>\n` +
    `<p id="live-status">${live ? "connecting..." : "static view"}</p>\n</div>\n` +
    (live ? `<script>${SCRIPT}</script>\n` : "")
  );
}

/**
 * The client: plain ES2017, no dependency. Charts are SVG paths over the last 10 minutes (at least one
 * minute wide, so a fresh page does not stretch two points across the chart).
 */
const SCRIPT = `(function(){
var base=location.pathname,pts=[],first=true,SPAN=600000,COL=${JSON.stringify(Object.fromEntries(COLORS.map(([c, col]) => [c, col])))};
function $(id){return document.getElementById(id)}
function set(id,v){var e=$(id);if(e)e.textContent=v}
function num(n){return n>=100?Math.round(n).toString():n>=10?n.toFixed(1):n.toFixed(2)}
function bytes(n){return n<1024?Math.round(n)+" B":n<1048576?(n/1024).toFixed(1)+" kB":(n/1048576).toFixed(1)+" MB"}
function up(s){var d=Math.floor(s/86400),h=Math.floor(s/3600)%24,m=Math.floor(s/60)%60;return d?d+"d "+h+"h":h?h+"h "+m+"m":m?m+"m "+s%60+"s":s+"s"}
function rates(){var out=[];for(var i=1;i<pts.length;i++){var a=pts[i-1],b=pts[i],dt=(b.t-a.t)/1000;if(dt>0)out.push({t:b.t,rps:Math.max(0,(b.accesses-a.accesses)/dt),bps:Math.max(0,(b.bytes-a.bytes)/dt)})}return out}
function chart(id,series,t1){var svg=$("c-"+id);if(!svg)return;var first=pts.length?pts[0].t:t1,t0=Math.max(t1-SPAN,Math.min(first,t1-60000)),W=t1-t0||1,max=1,h="";
series.forEach(function(s){s.v.forEach(function(p){if(p.t>=t0&&p.y>max)max=p.y})});
series.forEach(function(s,k){var d="",x0=-1,xl=0;s.v.forEach(function(p){if(p.t<t0)return;var x=(p.t-t0)/W*300,y=78-p.y/max*72;if(x0<0)x0=x;xl=x;d+=(d?"L":"M")+x.toFixed(1)+" "+y.toFixed(1)});
if(d)h+='<path class="a'+k+'" d="'+d+"L"+xl.toFixed(1)+" 80L"+x0.toFixed(1)+' 80Z"/><path class="s'+k+'" d="'+d+'"/>'});
svg.innerHTML=h;set("m-"+id,"max "+num(max)+" \\u00b7 "+Math.round(W/60000)+" min")}
function grid(sb){var c=$("grid");if(!c||!c.getContext)return;var s=sb.slots,per=sb.threadsPerChild>1&&s.length%sb.threadsPerChild===0?sb.threadsPerChild:64;
if(per<16)per=Math.min(64,s.length);var cell=Math.max(5,Math.min(12,Math.floor((c.parentNode.clientWidth||640)/per)-1)),rows=Math.ceil(s.length/per);
c.width=per*(cell+1);c.height=rows*(cell+1);var g=c.getContext("2d");for(var i=0;i<s.length;i++){g.fillStyle=COL[s[i]]||"#000";g.fillRect((i%per)*(cell+1),Math.floor(i/per)*(cell+1),cell,cell)}}
function render(j){var r=rates(),last=r[r.length-1],t1=pts.length?pts[pts.length-1].t:Date.now();
set("t-rps",last?num(last.rps):"-");set("t-bps",last?bytes(last.bps):"-");set("t-busy",j.workers.busy);set("t-idle",j.workers.idle);
set("t-conns",j.connections.measured?j.connections.total:"n/a");set("t-acc",j.totals?j.totals.accesses:"n/a");set("t-up",up(j.server.uptimeSeconds));
chart("rps",[{v:r.map(function(p){return{t:p.t,y:p.rps}})}],t1);
chart("workers",[{v:pts.map(function(p){return{t:p.t,y:p.busy}})},{v:pts.map(function(p){return{t:p.t,y:p.idle}})}],t1);
chart("conns",j.connections.measured?[{v:pts.map(function(p){return{t:p.t,y:p.connections}})}]:[],t1);grid(j.scoreboard);
if(!j.connections.measured)set("m-conns","not measured here")}
function report(){fetch(location.href,{cache:"no-store"}).then(function(res){return res.text()}).then(function(t){
var n=new DOMParser().parseFromString(t,"text/html").getElementById("report"),o=$("report");if(n&&o)o.innerHTML=n.innerHTML}).catch(function(){})}
var ticks=0;
function poll(){fetch(base+(first?"?json&history":"?json"),{cache:"no-store"}).then(function(res){return res.json()}).then(function(j){
if(first&&j.history)pts=j.history.slice();first=false;var t=j.totals||{accesses:0,bytes:0},now=Date.parse(j.server.currentTime);
pts.push({t:now,accesses:t.accesses,bytes:t.bytes,busy:j.workers.busy,idle:j.workers.idle,connections:j.connections.total});
while(pts.length&&pts[0].t<now-SPAN)pts.shift();render(j);if(++ticks%5===0)report();
document.body.setAttribute("data-updates",String(+(document.body.getAttribute("data-updates")||0)+1));
set("live-status","live \\u00b7 updated "+new Date(now).toLocaleTimeString()+(j.source==="scoreboard"?"":" \\u00b7 "+j.source))
}).catch(function(){set("live-status","offline \\u2014 retrying")}).then(function(){setTimeout(poll,2000)})}
poll()})();`;
