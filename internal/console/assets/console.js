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

// Resource views: what each service holds, read through its own API
// (GET /_wharf/api/resources/{kind}), refreshed while shown.
const views = {
  queues: {
    title: "Queues",
    cols: ["Name", "Visible", "In flight", "Delayed", "Dead-letter queue", ""],
    key: q => q.name,
    cells: q => [q.name, q.visible, q.inFlight, q.delayed,
      q.deadLetterQueue ? arnName(q.deadLetterQueue) + (q.deadLetterDepth != null ? " (" + q.deadLetterDepth + ")" : "") + " after " + q.maxReceiveCount + " receives" : "",
      button("Purge", () => purge(q))],
  },
  tables: {
    title: "Tables",
    cols: ["Name", "Status", "Items", "Key"],
    key: t => t.name,
    cells: t => [t.name, state(t.status), t.itemCount, t.key.join(", ")],
  },
  rules: {
    title: "Rules",
    cols: ["Name", "Bus", "State", "Pattern or schedule", "Targets"],
    key: r => r.bus + "/" + r.name,
    cells: r => [r.name, r.bus, state(r.state), mono(r.schedule || r.pattern),
      list(r.targets.map(t => t.id + " → " + t.arn + (t.deadLetterQueue ? " (DLQ " + arnName(t.deadLetterQueue) + ")" : "")))],
  },
  tasks: {
    title: "Tasks",
    cols: ["Task", "Cluster", "Definition", "Status", "Containers", "Stopped reason"],
    key: t => t.arn,
    cells: t => [mono(t.arn.slice(t.arn.lastIndexOf("/") + 1)), t.cluster, t.taskDefinition,
      state(t.lastStatus, t.desiredStatus !== t.lastStatus ? " → " + t.desiredStatus : ""),
      list(t.containers.map(c => c.name + ": " + c.lastStatus + (c.exitCode != null ? " (exit " + c.exitCode + ")" : "") + (c.reason ? " " + c.reason : ""))),
      t.stoppedReason || ""],
  },
  alarms: {
    title: "Alarms",
    cols: ["Name", "State", "Metric", "Condition", "Reason", "Since"],
    key: a => a.name,
    cells: a => [a.name, state(a.state), a.metric || "", a.comparison ? a.comparison + " " + a.threshold + " over " + a.period + "s" : "",
      a.reason, a.updated ? new Date(a.updated).toLocaleString() : ""],
  },
};
let view = "timeline";
let refresher = null;

function arnName(arn) { return arn.slice(arn.lastIndexOf(":") + 1); }
function state(s, extra) { const el = text("span", s + (extra || ""), "state-" + s); el.dataset.state = s; return el; }
function mono(s) { return text("span", s || "", "mono"); }
function list(items) {
  const ul = document.createElement("ul");
  ul.append(...items.map(i => text("li", i)));
  return ul;
}
function button(label, fn) {
  const b = text("button", label);
  b.type = "button";
  b.addEventListener("click", fn);
  return b;
}

async function purge(q) {
  const res = await fetch(api + "queues/purge?url=" + encodeURIComponent(q.url), { method: "POST" });
  if (!res.ok) showResourceError((await res.json()).error);
  showView(view);
}

function showResourceError(msg) {
  const el = document.getElementById("resources-error");
  el.textContent = msg;
  el.hidden = !msg;
}

async function showView(name) {
  view = name;
  for (const b of document.querySelectorAll("#views button")) b.classList.toggle("on", b.dataset.view === name);
  document.getElementById("timeline-pane").hidden = name !== "timeline";
  document.getElementById("resources-pane").hidden = name === "timeline";
  if (name !== "timeline") document.getElementById("trace-pane").hidden = true;
  clearTimeout(refresher);
  if (name === "timeline") return;
  const v = views[name];
  const table = document.getElementById("resources");
  table.dataset.kind = name;
  document.getElementById("resources-title").textContent = v.title;
  const res = await fetch(api + "resources/" + name);
  const body = await res.json();
  if (view !== name) return;
  if (!res.ok) {
    showResourceError(body.error);
  } else {
    showResourceError("");
    const head = document.createElement("tr");
    head.append(...v.cols.map(c => text("th", c)));
    table.tHead.replaceChildren(head);
    table.tBodies[0].replaceChildren(...body.items.map(item => {
      const tr = document.createElement("tr");
      tr.dataset.name = v.key(item);
      v.cells(item).forEach((c, i) => {
        const td = document.createElement("td");
        td.dataset.col = v.cols[i] || "actions";
        if (c instanceof Node) td.append(c); else td.textContent = String(c);
        tr.append(td);
      });
      return tr;
    }));
    document.getElementById("resources-count").textContent = body.items.length + (body.items.length === 1 ? " item" : " items");
  }
  refresher = setTimeout(() => showView(name), 2000);
}

for (const b of document.querySelectorAll("#views button")) b.addEventListener("click", () => showView(b.dataset.view));

// The clock: shown, moved an hour with +1h.
async function showClock(res) {
  const c = await (res || fetch("/_wharf/clock")).then(r => r.json());
  const el = document.getElementById("clock");
  el.textContent = new Date(c.now).toISOString().replace(/\.\d+Z$/, "Z") + (c.offsetSeconds ? " (+" + c.offset + ")" : "");
  el.classList.toggle("moved", c.offsetSeconds > 0);
}
document.getElementById("advance").addEventListener("click", () =>
  showClock(fetch("/_wharf/clock", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ advance: "1h" }) })));
document.getElementById("reset").addEventListener("click", async () => {
  if (!confirm("Stop every task and empty every service?")) return;
  await fetch("/_wharf/reset", { method: "POST" });
  if (view === "timeline") load(); else showView(view);
});
showClock();
setInterval(showClock, 5000);
