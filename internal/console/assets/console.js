// wharf console: the timeline of every hop, live, and the causal chain of
// any entry. Plain JavaScript, no build step, no network beyond wharf itself.
"use strict";

const api = "/_wharf/api/";
const rows = document.querySelector("#timeline tbody");
const form = document.getElementById("filters");
const statusEl = document.getElementById("status");
const errorEl = document.getElementById("error");
const maxRows = 500;
let stream = null;

function params() {
  const q = new URLSearchParams();
  for (const name of ["service", "resource", "id", "since"]) {
    const v = form.elements[name].value.trim();
    if (v) q.set(name, v);
  }
  return q;
}

function showQuiet() { return form.elements.quiet.checked; }

function text(tag, content, cls) {
  const el = document.createElement(tag);
  el.textContent = content;
  if (cls) el.className = cls;
  return el;
}

function row(e, fresh) {
  const tr = document.createElement("tr");
  tr.dataset.id = e.id;
  tr.dataset.kind = e.kind;
  tr.dataset.subject = e.subject || "";
  if (fresh) tr.className = "new";
  tr.append(text("td", new Date(e.time).toLocaleTimeString(undefined, { hour12: false }) + "." + String(new Date(e.time).getMilliseconds()).padStart(3, "0"), "time"));
  tr.append(text("td", e.service));
  tr.append(text("td", e.kind));
  const what = text("td", e.detail || "");
  if (e.error) what.append(document.createElement("br"), text("span", e.error, "err"));
  tr.append(what);
  tr.append(text("td", e.outcome || "", e.outcome || ""));
  tr.addEventListener("click", () => trace(e.id));
  return tr;
}

async function load() {
  errorEl.hidden = true;
  const q = params();
  q.set("limit", String(maxRows));
  const res = await fetch(api + "timeline?" + q);
  const body = await res.json();
  if (!res.ok) {
    errorEl.textContent = body.error;
    errorEl.hidden = false;
    return;
  }
  rows.replaceChildren(...body.entries.filter(e => showQuiet() || !e.quiet).map(e => row(e, false)));
  listen(q);
}

// listen follows new entries as server-sent events.
function listen(q) {
  if (stream) stream.close();
  q.delete("limit");
  stream = new EventSource(api + "timeline/stream?" + q);
  stream.onopen = () => { statusEl.textContent = "live"; statusEl.dataset.state = "live"; };
  stream.onerror = () => { statusEl.textContent = "reconnecting…"; statusEl.dataset.state = "down"; };
  stream.onmessage = m => {
    const e = JSON.parse(m.data);
    if (e.quiet && !showQuiet()) return;
    rows.prepend(row(e, true));
    while (rows.children.length > maxRows) rows.lastElementChild.remove();
  };
}

// trace shows the chain from the root cause down, each hop indented under
// the hop whose subject caused it.
async function trace(id) {
  const res = await fetch(api + "trace/" + encodeURIComponent(id));
  const body = await res.json();
  const pane = document.getElementById("trace-pane");
  pane.hidden = false;
  document.getElementById("trace-id").textContent = id;
  const list = document.getElementById("trace");
  if (!res.ok) {
    list.replaceChildren(text("li", body.error));
    return;
  }
  const depth = {};
  list.replaceChildren(...body.entries.map(e => {
    const d = e.subject in depth ? depth[e.subject] : (e.cause in depth ? depth[e.cause] + 1 : 0);
    if (e.subject) depth[e.subject] = d;
    const li = document.createElement("li");
    li.dataset.kind = e.kind;
    li.style.marginLeft = (d * 1.25) + "rem";
    if (e.outcome === "failed") li.className = "failed";
    li.append(text("span", e.service + " · " + e.kind, "kind"), " ", text("span", e.detail || ""));
    if (e.error) li.append(document.createElement("br"), text("span", e.error, "err"));
    if (e.resource) li.append(text("span", e.resource, "res mono"));
    return li;
  }));
}

form.addEventListener("submit", ev => { ev.preventDefault(); load(); });
document.getElementById("close-trace").addEventListener("click", () => { document.getElementById("trace-pane").hidden = true; });
load();
