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
// (GET /_wharf/api/resources/{kind}), refreshed while shown. A row with a
// detail opens it beside the list (objects, logs, history, plots...).
const views = {
  queues: {
    title: "Queues",
    cols: ["Name", "Visible", "In flight", "Delayed", "Dead-letter queue", ""],
    key: q => q.name,
    cells: q => [q.name, q.visible, q.inFlight, q.delayed,
      q.deadLetterQueue ? arnName(q.deadLetterQueue) + (q.deadLetterDepth != null ? " (" + q.deadLetterDepth + ")" : "") + " after " + q.maxReceiveCount + " receives" : "",
      button("Purge", () => purge(q))],
    detail: queueDetail,
  },
  tables: {
    title: "Tables",
    cols: ["Name", "Status", "Items", "Key"],
    key: t => t.name,
    cells: t => [t.name, state(t.status), t.itemCount, t.key.join(", ")],
    detail: tableDetail,
  },
  rules: {
    title: "Rules",
    cols: ["Name", "Bus", "State", "Pattern or schedule", "Targets"],
    key: r => r.bus + "/" + r.name,
    cells: r => [r.name, r.bus, state(r.state), mono(r.schedule || r.pattern),
      list(r.targets.map(t => t.id + " → " + t.arn + (t.deadLetterQueue ? " (DLQ " + arnName(t.deadLetterQueue) + ")" : "")))],
    detail: ruleDetail,
  },
  tasks: {
    title: "Tasks",
    cols: ["Task", "Cluster", "Definition", "Status", "Containers", "Stopped reason"],
    key: t => t.arn,
    cells: t => [mono(t.arn.slice(t.arn.lastIndexOf("/") + 1)), t.cluster, t.taskDefinition,
      state(t.lastStatus, t.desiredStatus !== t.lastStatus ? " → " + t.desiredStatus : ""),
      list(t.containers.map(containerLine)), t.stoppedReason || ""],
    detail: taskDetail,
  },
  alarms: {
    title: "Alarms",
    cols: ["Name", "State", "Metric", "Condition", "Reason", "Since"],
    key: a => a.name,
    cells: a => [a.name, state(a.state), a.metric || "", a.comparison ? a.comparison + " " + a.threshold + " over " + a.period + "s" : "",
      a.reason, a.updated ? new Date(a.updated).toLocaleString() : ""],
    detail: alarmDetail,
  },
  buckets: {
    title: "Buckets",
    cols: ["Name", "Region", "Created"],
    key: b => b.name,
    cells: b => [b.name, b.region || "", b.created ? new Date(b.created).toLocaleString() : ""],
    detail: bucketDetail,
  },
  topics: {
    title: "Topics",
    cols: ["Name", "Subscriptions"],
    key: t => t.name,
    cells: t => [t.name, list(t.subscriptions.map(s => s.protocol + " → " + s.endpoint + (s.arn === "PendingConfirmation" ? " (pending confirmation)" : "")))],
  },
  buses: {
    title: "Event buses",
    cols: ["Name", "Rules", "Description", "Resource policy"],
    key: b => b.name,
    cells: b => [b.name, b.rules, b.description || "", b.policy ? mono(b.policy) : "none: only this account may put events"],
  },
  schedules: {
    title: "Schedules",
    cols: ["Name", "Kind", "Bus or group", "Expression", "State", "Targets", "Next firing"],
    key: s => s.kind + ":" + s.group + "/" + s.name,
    cells: s => [s.name, s.kind === "rule" ? "EventBridge rule" : "Scheduler schedule", s.group, mono(s.expression + (s.timezone ? " (" + s.timezone + ")" : "")),
      state(s.state), list(s.targets), nextFiring(s.next)],
  },
  clusters: {
    title: "Clusters",
    cols: ["Name", "Status", "Running tasks", "Pending tasks", "Active services"],
    key: c => c.name,
    cells: c => [c.name, state(c.status), c.running, c.pending, c.activeServices],
  },
  services: {
    title: "Services",
    cols: ["Service", "Cluster", "Status", "Desired", "Running", "Pending", "Deployments", "Scaling"],
    key: s => s.cluster + "/" + s.name,
    cells: s => [s.name, s.cluster, state(s.status), s.desired, s.running, s.pending,
      list(s.deployments.map(d => d.status + " " + d.taskDefinition + ": " + d.running + "/" + d.desired + " running" + (d.rolloutState ? " (" + d.rolloutState + ")" : ""))),
      s.scaling ? s.scaling.min + "–" + s.scaling.max + (s.scaling.policies.length ? ", " + s.scaling.policies.join(", ") : "") : ""],
    detail: serviceDetail,
  },
};
let view = "timeline";
let refresher = null;
// selected is the row whose detail is open: {view, key}.
let selected = null;
let detailTimer = null;

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
  b.addEventListener("click", ev => { ev.stopPropagation(); fn(); });
  return b;
}
function containerLine(c) {
  return c.name + ": " + c.lastStatus + (c.exitCode != null ? " (exit " + c.exitCode + ")" : "") + (c.reason ? " " + c.reason : "");
}
function when(t) { return t ? new Date(t).toISOString().replace(/\.\d+Z$/, "Z") : ""; }
function nextFiring(t) {
  if (!t) return text("span", "never", "muted");
  const el = text("span", when(t));
  el.dataset.next = t;
  return el;
}
function heading(s) { return text("h3", s); }
function smallTable(cols, rows) {
  const t = document.createElement("table");
  const head = document.createElement("tr");
  head.append(...cols.map(c => text("th", c)));
  t.createTHead().append(head);
  const body = t.createTBody();
  for (const r of rows) {
    const tr = document.createElement("tr");
    r.forEach((c, i) => {
      const td = document.createElement("td");
      td.dataset.col = cols[i];
      if (c instanceof Node) td.append(c); else td.textContent = String(c);
      tr.append(td);
    });
    body.append(tr);
  }
  return t;
}
async function getJSON(path) {
  const res = await fetch(api + path);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
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
  if (name !== view) closeDetail();
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
      if (v.detail) {
        tr.classList.add("clickable");
        tr.classList.toggle("selected", selected !== null && selected.view === name && selected.key === tr.dataset.name);
        tr.addEventListener("click", () => openDetail(name, tr.dataset.name, item));
      }
      return tr;
    }));
    document.getElementById("resources-count").textContent = body.items.length + (body.items.length === 1 ? " item" : " items");
  }
  refresher = setTimeout(() => showView(name), 2000);
}

// openDetail shows a row's detail: its static part once, and the parts
// that change (logs, history, plots) refreshed every two seconds.
function openDetail(name, key, item) {
  closeDetail();
  selected = { view: name, key };
  for (const tr of document.querySelectorAll("#resources tbody tr")) tr.classList.toggle("selected", tr.dataset.name === key);
  const pane = document.getElementById("detail-pane");
  pane.hidden = false;
  pane.dataset.kind = name;
  pane.dataset.name = key;
  document.getElementById("detail-title").textContent = views[name].title.replace(/s$/, "") + " " + key;
  const box = document.getElementById("detail");
  box.replaceChildren();
  const refreshers = views[name].detail(box, item) || [];
  const tick = async () => {
    for (const r of refreshers) {
      try { await r(); } catch (e) { /* shown by the part itself */ }
    }
    if (selected && selected.key === key) detailTimer = setTimeout(tick, 2000);
  };
  tick();
}
function closeDetail() {
  selected = null;
  clearTimeout(detailTimer);
  document.getElementById("detail-pane").hidden = true;
}
document.getElementById("close-detail").addEventListener("click", closeDetail);

// part appends a section whose content load() replaces on each refresh.
function part(box, title, id, load) {
  box.append(heading(title));
  const el = document.createElement("div");
  el.id = id;
  box.append(el);
  return async () => {
    try {
      const content = await load();
      el.replaceChildren(...(Array.isArray(content) ? content : [content]));
    } catch (e) {
      el.replaceChildren(text("p", String(e.message || e), "error"));
    }
  };
}

function bucketDetail(box, b) {
  return [part(box, "Objects", "objects", async () => {
    const body = await getJSON("resources/objects?bucket=" + encodeURIComponent(b.name));
    if (!body.items.length) return text("p", "no objects", "muted");
    return smallTable(["Key", "Size", "Last modified", ""], body.items.map(o => {
      const a = text("a", "download");
      a.href = api + "objects/download?bucket=" + encodeURIComponent(b.name) + "&key=" + encodeURIComponent(o.key);
      a.download = o.key.slice(o.key.lastIndexOf("/") + 1);
      a.dataset.key = o.key;
      return [o.key, o.size + " B", when(o.lastModified), a];
    }));
  })];
}

function taskDetail(box, t) {
  box.append(heading("Containers"), smallTable(["Name", "Status", "Exit code", "Reason"],
    t.containers.map(c => [c.name, c.lastStatus, c.exitCode != null ? c.exitCode : "", c.reason || ""])));
  if (t.stoppedReason) box.append(heading("Stopped reason"), text("p", t.stoppedReason));
  return [part(box, "Logs (latest lines of each container's awslogs stream)", "logs", async () => {
    const body = await getJSON("resources/logs?task=" + encodeURIComponent(t.arn));
    if (!body.items.length) return text("p", "no container logs to CloudWatch Logs (awslogs)", "muted");
    return body.items.map(l => {
      const d = document.createElement("div");
      d.append(text("p", l.container + " · " + l.group + " · " + l.stream, "mono"));
      const pre = text("pre", l.error ? l.error : l.lines.map(x => when(x.time) + "  " + x.message).join("\n"), "log");
      pre.dataset.container = l.container;
      pre.dataset.lines = String(l.lines.length);
      d.append(pre);
      return d;
    });
  })];
}

// A sample event with the fields TestEventPattern requires, to edit.
function sampleEvent() {
  return JSON.stringify({
    version: "0", id: "00000000-0000-0000-0000-000000000000", "detail-type": "Object Created", source: "aws.s3",
    account: "000000000000", time: new Date().toISOString().replace(/\.\d+Z$/, "Z"), region: "us-east-1", resources: [],
    detail: { bucket: { name: "my-bucket" }, object: { key: "incoming/file.txt", size: 42 } },
  }, null, 2);
}

function ruleDetail(box, r) {
  box.append(heading(r.schedule ? "Schedule" : "Pattern"), text("pre", r.schedule || pretty(r.pattern), "code"));
  box.append(heading("Targets"), smallTable(["Id", "ARN", "Dead-letter queue"], r.targets.map(t => [t.id, t.arn, t.deadLetterQueue || ""])));
  if (!r.pattern) return [];
  box.append(heading("Test an event against this pattern"));
  const area = document.createElement("textarea");
  area.id = "test-event";
  area.rows = 12;
  area.value = sampleEvent();
  const verdict = text("span", "", "verdict");
  verdict.id = "test-verdict";
  const run = button("Test", async () => {
    verdict.textContent = "…";
    delete verdict.dataset.match;
    const res = await fetch(api + "rules/test-pattern", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ pattern: r.pattern, event: area.value }) });
    const body = await res.json();
    if (!res.ok) {
      verdict.dataset.match = "error";
      verdict.textContent = (body.code ? body.code + ": " : "") + body.error;
    } else {
      verdict.dataset.match = String(body.match);
      verdict.textContent = body.match ? "matches" : "does not match";
    }
  });
  run.id = "test-run";
  const p = document.createElement("p");
  p.append(run, verdict);
  box.append(area, p);
  return [];
}
// field is a labelled input of a detail's form.
function field(label, id, opts) {
  const l = text("label", label);
  const i = document.createElement(opts && opts.textarea ? "textarea" : "input");
  i.id = id;
  if (opts && opts.textarea) i.rows = 4;
  if (opts && opts.placeholder) i.placeholder = opts.placeholder;
  l.append(i);
  return l;
}
async function postJSON(path, body) {
  const res = await fetch(api + path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const out = await res.json();
  if (!res.ok) throw new Error((out.code ? out.code + ": " : "") + out.error);
  return out;
}

// queueDetail: a send form (SQS's SendMessage) and a peek, which is
// ReceiveMessage with a zero visibility timeout: AWS has no peek.
function queueDetail(box, q) {
  box.append(heading("Send a message"));
  const form = document.createElement("div");
  form.className = "form";
  form.append(field("Body", "send-body", { textarea: true }));
  if (q.fifo) form.append(field("Message group id", "send-group"), field("Deduplication id (unless content-based)", "send-dedup"));
  const sent = text("span", "", "verdict");
  sent.id = "send-result";
  const send = button("Send", async () => {
    delete sent.dataset.id;
    const m = { url: q.url, body: document.getElementById("send-body").value };
    if (q.fifo) {
      m.groupId = document.getElementById("send-group").value;
      m.deduplicationId = document.getElementById("send-dedup").value;
    }
    try {
      const out = await postJSON("queues/send", m);
      sent.textContent = "sent " + out.messageId;
      sent.dataset.id = out.messageId;
      sent.classList.remove("error");
    } catch (e) {
      sent.textContent = e.message;
      sent.dataset.id = "";
      sent.classList.add("error");
    }
  });
  send.id = "send-run";
  const p = document.createElement("p");
  p.append(send, sent);
  box.append(form, p);

  box.append(heading("Peek"));
  box.append(text("p", "AWS has no peek: this is ReceiveMessage with VisibilityTimeout=0 (as the AWS console's " +
    "\"poll for messages\"), so the messages stay in the queue, but each one's ApproximateReceiveCount goes up " +
    "and counts toward a redrive policy's maxReceiveCount.", "muted"));
  const result = document.createElement("div");
  result.id = "peek-result";
  const peek = button("Peek (receive with visibility timeout 0)", async () => {
    try {
      const out = await postJSON("queues/peek?url=" + encodeURIComponent(q.url));
      if (!out.messages.length) { result.replaceChildren(text("p", "no visible message", "muted")); return; }
      const t = smallTable(["Message id", "Body", "Receive count", "Sent", "Group"],
        out.messages.map(m => [mono(m.messageId), text("pre", m.body, "code"), m.receiveCount, when(m.sent), m.groupId || ""]));
      out.messages.forEach((m, i) => { t.tBodies[0].rows[i].dataset.id = m.messageId; });
      result.replaceChildren(t);
    } catch (e) {
      result.replaceChildren(text("p", e.message, "error"));
    }
  });
  peek.id = "peek-run";
  box.append(peek, result);
  return [];
}

// tableDetail: the first items (Scan) and a query form (DynamoDB's Query
// on the partition key, with an optional sort key condition).
function tableDetail(box, t) {
  const key = name => t.key.find(k => k.endsWith("(" + name + ")"));
  const pk = key("HASH"), sk = key("RANGE");
  const render = items => {
    if (!items.length) return text("p", "no items", "muted");
    const cols = [...new Set(items.flatMap(i => Object.keys(i)))];
    const tb = smallTable(cols, items.map(i => cols.map(c => i[c] === undefined ? "" : mono(JSON.stringify(i[c])))));
    return tb;
  };
  box.append(heading("Query"));
  const form = document.createElement("div");
  form.className = "form";
  form.append(field("Partition key " + pk.replace(/ \(HASH\)$/, "") + " =", "query-pk"));
  if (sk) {
    const l = text("label", "Sort key " + sk.replace(/ \(RANGE\)$/, ""));
    const op = document.createElement("select");
    op.id = "query-op";
    for (const o of ["", "=", "<", "<=", ">", ">=", "begins_with", "between"]) {
      const opt = text("option", o || "(any)");
      opt.value = o;
      op.append(opt);
    }
    l.append(op);
    form.append(l, field("value", "query-sk"), field("and (between)", "query-sk2"));
  }
  const result = document.createElement("div");
  result.id = "query-result";
  const run = button("Query", async () => {
    delete result.dataset.count;
    const q = { table: t.name, partition: document.getElementById("query-pk").value };
    if (sk) {
      q.sortOp = document.getElementById("query-op").value;
      q.sort = document.getElementById("query-sk").value;
      q.sort2 = document.getElementById("query-sk2").value;
    }
    try {
      const out = await postJSON("tables/query", q);
      result.replaceChildren(text("p", out.count + (out.count === 1 ? " item" : " items") + (out.more ? " (first page)" : ""), "muted"), render(out.items));
      result.dataset.count = String(out.count);
    } catch (e) {
      result.replaceChildren(text("p", e.message, "error"));
      result.dataset.count = "error";
    }
  });
  run.id = "query-run";
  form.append(run);
  box.append(form, result);
  return [part(box, "Items (Scan, first 100)", "table-items", async () =>
    render((await getJSON("resources/items?table=" + encodeURIComponent(t.name))).items))];
}

function pretty(s) { try { return JSON.stringify(JSON.parse(s), null, 2); } catch (e) { return s || ""; } }

function alarmDetail(box, a) {
  const parts = [];
  if (a.metric || a.comparison) parts.push(part(box, "Metric against its threshold", "alarm-plot", async () => drawPlot(await getJSON("plots/alarm?name=" + encodeURIComponent(a.name)))));
  parts.push(part(box, "State history", "alarm-history", async () => {
    const body = await getJSON("resources/alarm-history?alarm=" + encodeURIComponent(a.name));
    if (!body.items.length) return text("p", "no history yet", "muted");
    return smallTable(["Time", "Type", "Summary"], body.items.map(h => [when(h.time), h.type, h.summary]));
  }));
  return parts;
}

function serviceDetail(box, s) {
  box.append(heading("Deployments"), smallTable(["Id", "Status", "Rollout", "Task definition", "Desired", "Running", "Pending", "Failed"],
    s.deployments.map(d => [d.id, d.status, d.rolloutState || "", d.taskDefinition, d.desired, d.running, d.pending, d.failed])));
  if (s.events.length) box.append(heading("Latest events"), list(s.events.map(e => when(e.time) + " " + e.message)));
  const resource = "service/" + s.cluster + "/" + s.name;
  return [
    part(box, "What scales it against its running tasks", "service-plot", async () =>
      drawPlot(await getJSON("plots/service?cluster=" + encodeURIComponent(s.cluster) + "&service=" + encodeURIComponent(s.name)))),
    part(box, "Scaling activities", "scaling-activities", async () => {
      const body = await getJSON("resources/scaling-activities?resource=" + encodeURIComponent(resource));
      if (!body.items.length) return text("p", s.scaling ? "no scaling activity yet" : "no scalable target registered", "muted");
      return smallTable(["Started", "Status", "Description", "Cause"], body.items.map(x => [when(x.start), x.status + (x.message ? ": " + x.message : ""), x.description, x.cause]));
    }),
  ];
}

// drawPlot draws a plot as inline SVG: time across, the left series on the
// left scale (with an alarm's threshold), the right ones (task counts, as
// steps) on the right scale.
const colors = ["#0b5cad", "#1f7a3f", "#8a4baf", "#c26a00"];
function drawPlot(p) {
  const ns = "http://www.w3.org/2000/svg";
  const W = 640, H = 220, L = 48, R = 40, T = 10, B = 24;
  const el = (tag, attrs, content) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (content != null) e.textContent = content;
    return e;
  };
  const t0 = Date.parse(p.start), t1 = Date.parse(p.end);
  const x = t => L + (W - L - R) * (Date.parse(t) - t0) / Math.max(1, t1 - t0);
  const scale = axis => {
    let max = 0;
    for (const s of p.series) if (s.axis === axis) for (const pt of s.points) max = Math.max(max, pt.v);
    if (axis === "left" && p.threshold != null) max = Math.max(max, p.threshold);
    max = max > 0 ? max * 1.1 : 1;
    return { max, y: v => T + (H - T - B) * (1 - v / max) };
  };
  const left = scale("left"), right = scale("right");
  const hasRight = p.series.some(s => s.axis === "right");
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", "aria-label": p.title });
  svg.dataset.series = String(p.series.length);
  for (let i = 0; i <= 4; i++) {
    const yy = T + (H - T - B) * i / 4;
    svg.append(el("line", { x1: L, x2: W - R, y1: yy, y2: yy, class: "grid" }));
    svg.append(el("text", { x: L - 4, y: yy + 3, "text-anchor": "end" }, fmt(left.max * (1 - i / 4))));
    if (hasRight) svg.append(el("text", { x: W - R + 4, y: yy + 3 }, fmt(right.max * (1 - i / 4))));
  }
  for (let i = 0; i <= 3; i++) {
    const t = new Date(t0 + (t1 - t0) * i / 3);
    svg.append(el("text", { x: L + (W - L - R) * i / 3, y: H - 6, "text-anchor": i === 0 ? "start" : i === 3 ? "end" : "middle" },
      t.toISOString().slice(11, 19)));
  }
  if (p.threshold != null) {
    const yy = left.y(p.threshold);
    svg.append(el("line", { x1: L, x2: W - R, y1: yy, y2: yy, class: "threshold", "data-threshold": p.threshold }));
    svg.append(el("text", { x: W - R - 2, y: yy - 3, "text-anchor": "end" }, "threshold " + p.threshold));
  }
  const legend = document.createElement("div");
  legend.className = "legend";
  p.series.forEach((s, i) => {
    const sc = s.axis === "right" ? right : left;
    let d = "";
    s.points.forEach((pt, j) => {
      const px = x(pt.t).toFixed(1), py = sc.y(pt.v).toFixed(1);
      if (j === 0) d += `M${px},${py}`;
      else if (s.axis === "right") d += `H${px}V${py}`; // a count changes in steps
      else d += `L${px},${py}`;
    });
    const color = colors[i % colors.length];
    const path = el("path", { d: d || "M0,0", fill: "none", stroke: color, "stroke-width": 2 });
    path.dataset.label = s.label;
    path.dataset.points = String(s.points.length);
    svg.append(path);
    if (s.points.length === 1) svg.append(el("circle", { cx: x(s.points[0].t), cy: sc.y(s.points[0].v), r: 3, fill: color }));
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = color;
    item.append(swatch, s.label + (s.axis === "right" ? " (right scale)" : "") + (s.points.length ? "" : " — no data yet"));
    legend.append(item);
  });
  const wrap = document.createElement("div");
  wrap.append(legend, svg);
  return wrap;
}
function fmt(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2).replace(/\.?0+$/, "") || "0"; }

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
  closeDetail();
  if (view === "timeline") load(); else showView(view);
});
showClock();
setInterval(showClock, 5000);
