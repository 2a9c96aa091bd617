// Drives wharf's console in Debian's Chromium with playwright-core (never a
// downloaded browser). Usage: node console.cjs <playwright-core dir> <wharf URL>
// <screenshot dir>. It opens /_wharf/, says READY on stdout once the live
// stream is connected, then waits (the Go test uploads an object meanwhile)
// for architecture 1's chain to appear live (upload, rule, task), opens its
// causal chain; then it goes through the resource views, reading what the Go
// test made there: the task's log lines, the queue (purged, then a message sent from the form and peeked), the table (queried), the rule (its
// pattern tested against events), the bucket (an object downloaded), the
// topic, the scaled service (its plot and scaling activity), the alarm (its
// plot and history), the schedules (+1h moves the next firing) and finally
// Reset. It prints what it saw as "VIEWS {json}" and "CHAIN [...]"; exit
// status 0 means every wait succeeded.
"use strict";
const fs = require("fs");
const [pwDir, base, shots] = process.argv.slice(2);
const { chromium } = require(pwDir);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.WHARF_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1500, height: 950 }, acceptDownloads: true });
    const page = await context.newPage();
    const failed = [];
    page.on("pageerror", e => failed.push(String(e)));
    page.on("dialog", d => d.accept()); // Reset asks to confirm
    // Offline: the console must ask nothing of any host but wharf.
    page.on("request", r => { if (!r.url().startsWith(base)) failed.push("request to " + r.url()); });
    const shot = name => page.screenshot({ path: shots + "/" + name + ".png", fullPage: true });
    const wait = (fn, arg, timeout) => page.waitForFunction(fn, arg, { timeout: timeout || 15000 });
    await page.goto(base + "/_wharf/");
    await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
    process.stdout.write("READY\n");

    // Architecture 1, live: the upload, the rule's deliveries, the task.
    const created = page.locator('#timeline tbody tr[data-kind="ObjectCreated"]');
    await created.first().waitFor({ timeout: 20000 });
    for (const kind of ["MessageSent", "RunTask", "ContainerExited"]) {
      await page.locator(`#timeline tbody tr[data-kind="${kind}"]`).first().waitFor({ timeout: 30000 });
    }
    await shot("timeline");
    // The task's container exits a little later (another task's exit may
    // already be listed): open the chain again until it holds the exit.
    for (let deadline = Date.now() + 30000; ;) {
      await created.first().click();
      await page.locator('#trace li[data-kind="ObjectCreated"]').first().waitFor({ timeout: 10000 });
      if (await page.locator('#trace li[data-kind="ContainerExited"]').count() > 0) break;
      if (Date.now() > deadline) throw new Error("the upload's chain never reached the task's exit");
      await page.waitForTimeout(500);
    }
    for (const kind of ["ObjectCreated", "EventReceived", "RuleMatched", "Invocation", "MessageSent", "RunTask", "ContainerExited"]) {
      await page.locator(`#trace li[data-kind="${kind}"]`).first().waitFor({ timeout: 10000 });
    }
    const chain = await page.locator("#trace li").allTextContents();
    await shot("trace");

    // The filters narrow the list: only the queue's hops remain.
    await page.selectOption('select[name="service"]', "sqs");
    await page.click('#filters button[type="submit"]');
    await wait(() => {
      const rs = [...document.querySelectorAll("#timeline tbody tr")];
      return rs.length > 0 && rs.every(r => r.children[1].textContent === "sqs");
    });
    await page.selectOption('select[name="service"]', "");
    await page.click('#filters button[type="submit"]');

    const cell = (name, col) => page.locator(`#resources tr[data-name="${name}"] td[data-col="${col}"]`);
    const open = async v => {
      await page.click(`#views button[data-view="${v}"]`);
      await page.waitForSelector(`#resources[data-kind="${v}"] tbody tr`, { timeout: 15000 });
    };
    const seen = {};

    // The task of architecture 1: its log lines, from its awslogs stream.
    await open("tasks");
    const thumbTask = page.locator('#resources tbody tr', { hasText: "thumbnail:1" }).first();
    await thumbTask.waitFor({ timeout: 15000 });
    await thumbTask.click();
    await wait(() => {
      const pre = document.querySelector('#logs pre[data-container="app"]');
      return pre && pre.textContent.includes("written");
    }, null, 30000);
    seen.taskLog = await page.locator("#logs pre").first().textContent();
    await shot("task-logs");
    await wait(() => [...document.querySelectorAll('#resources[data-kind="tasks"] td[data-col="Containers"]')].some(c => c.textContent.includes("exit 3")));
    seen.task = await page.locator('#resources tbody tr', { hasText: "exit 3" }).first().textContent();

    await open("tables");
    await wait(() => { const c = document.querySelector('#resources tr[data-name="results"] td[data-col="Items"]'); return c && c.textContent === "1"; });
    seen.tableItems = await cell("results", "Items").textContent();
    // The table queried by its partition key: the task's item.
    await page.click('#resources tr[data-name="results"] td[data-col="Name"]');
    await page.waitForSelector("#query-pk");
    await page.fill("#query-pk", "cat.jpg");
    await page.click("#query-run");
    await wait(() => { const r = document.getElementById("query-result"); return r && r.dataset.count; });
    seen.queryCount = await page.locator("#query-result").getAttribute("data-count");
    seen.queryItems = await page.locator("#query-result").textContent();
    await shot("table-query");

    // The queue holds the message the rule sent; purging empties it.
    await open("queues");
    await wait(() => { const c = document.querySelector('#resources tr[data-name="thumbs"] td[data-col="Visible"]'); return c && c.textContent === "1"; });
    await shot("queues");
    await page.click('#resources tr[data-name="thumbs"] td[data-col="actions"] button');
    await wait(() => { const c = document.querySelector('#resources tr[data-name="thumbs"] td[data-col="Visible"]'); return c && c.textContent === "0"; });
    seen.queueAfterPurge = await cell("thumbs", "Visible").textContent();
    // A message sent from the form, then peeked: seen, and still visible.
    await page.click('#resources tr[data-name="thumbs"] td[data-col="Name"]');
    await page.waitForSelector("#send-body");
    await page.fill("#send-body", "hello from the console");
    await page.click("#send-run");
    await wait(() => { const s = document.getElementById("send-result"); return s && s.dataset.id !== undefined; });
    seen.sent = await page.locator("#send-result").textContent();
    const sentId = await page.locator("#send-result").getAttribute("data-id");
    await page.click("#peek-run");
    await wait(id => id && document.querySelector(`#peek-result tr[data-id="${id}"]`) !== null, sentId);
    seen.peeked = await page.locator(`#peek-result tr[data-id="${sentId}"]`).textContent();
    await wait(() => { const c = document.querySelector('#resources tr[data-name="thumbs"] td[data-col="Visible"]'); return c && c.textContent === "1"; });
    seen.queueAfterPeek = await cell("thumbs", "Visible").textContent();
    await shot("queue-peek");

    // The rule, and events tested against its pattern.
    await open("rules");
    seen.ruleTargets = await cell("default/on-photo", "Targets").textContent();
    await page.click('#resources tr[data-name="default/on-photo"] td[data-col="Name"]');
    await page.waitForSelector("#test-event");
    const testEvent = async ev => {
      await page.fill("#test-event", typeof ev === "string" ? ev : JSON.stringify(ev));
      await page.click("#test-run");
      await wait(() => { const v = document.getElementById("test-verdict"); return v && v.dataset.match; });
      return page.locator("#test-verdict").textContent();
    };
    const ev = { id: "1", account: "000000000000", source: "aws.s3", time: "2026-12-06T10:00:00Z", region: "us-east-1",
      "detail-type": "Object Created", resources: [], detail: { bucket: { name: "photos" }, object: { key: "dog.jpg" } } };
    seen.patternMatch = await testEvent(ev);
    await shot("rule-test");
    seen.patternMiss = await testEvent({ ...ev, detail: { bucket: { name: "other" } } });
    seen.patternError = await testEvent('{"source": "aws.s3"}');

    // The bucket's object, downloaded.
    await open("buckets");
    await page.click('#resources tr[data-name="photos"] td[data-col="Name"]');
    const link = page.locator('#objects a[data-key="cat.jpg"]');
    await link.waitFor({ timeout: 10000 });
    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 10000 }), link.click()]);
    seen.download = fs.readFileSync(await download.path(), "utf8");
    await shot("bucket");

    await open("topics");
    seen.subscriptions = await cell("alerts", "Subscriptions").textContent();
    await open("buses");
    seen.busRules = await cell("default", "Rules").textContent();

    // The scaled service: counts, deployment, scaling activity, plot.
    await open("services");
    await wait(() => { const c = document.querySelector('#resources tr[data-name="work/workers"] td[data-col="Deployments"]'); return c && c.textContent.includes("2/2 running"); }, null, 30000);
    seen.serviceRow = await cell("work/workers", "Deployments").textContent();
    await page.click('#resources tr[data-name="work/workers"] td[data-col="Service"]');
    await wait(() => [...document.querySelectorAll("#scaling-activities td")].some(td => td.textContent.includes("minimum capacity")));
    seen.scalingCause = await page.locator("#scaling-activities tbody tr").first().textContent();
    await wait(() => {
      const ps = [...document.querySelectorAll("#service-plot svg path")];
      return ps.length === 2 && ps.every(p => Number(p.dataset.points) > 1);
    }, null, 30000);
    seen.servicePlot = (await page.$$eval("#service-plot svg path", ps => ps.map(p => p.dataset.label + ":" + p.dataset.points))).join("|");
    await shot("service");

    await open("clusters");
    await open("alarms");
    seen.alarm = await cell("errors-high", "State").textContent() + " " + await cell("errors-high", "Condition").textContent();
    await page.click('#resources tr[data-name="errors-high"] td[data-col="Name"]');
    await wait(() => { const p = document.querySelector("#alarm-plot svg path"); return p && Number(p.dataset.points) >= 3; });
    seen.alarmPlot = "threshold=" + await page.locator("#alarm-plot line.threshold").getAttribute("data-threshold") + " " +
      (await page.$$eval("#alarm-plot svg path", ps => ps.map(p => p.dataset.label + ":" + p.dataset.points))).join("|");
    await wait(() => document.querySelector("#alarm-history td") !== null);
    seen.alarmHistory = await page.locator("#alarm-history").textContent();
    await shot("alarm");

    // The clock: +1h moves it, and the hourly rule's next firing an hour.
    await open("schedules");
    const next = () => page.locator('#resources tr[data-name="rule:default/hourly"] td[data-col="Next firing"] span').getAttribute("data-next");
    seen.nextBefore = await next();
    seen.clockBefore = await page.locator("#clock").textContent();
    await page.click("#advance");
    await wait(() => document.getElementById("clock").textContent.includes("(+1h"));
    seen.clockAfter = await page.locator("#clock").textContent();
    await wait(before => {
      const s = document.querySelector('#resources tr[data-name="rule:default/hourly"] td[data-col="Next firing"] span');
      return s && s.dataset.next && s.dataset.next !== before;
    }, seen.nextBefore, 20000);
    seen.nextAfter = await next();
    await shot("schedules");

    // Reset empties every service: the queues view is empty and the
    // timeline starts again from the reset.
    await open("queues");
    await page.click("#reset");
    await wait(() => document.querySelectorAll('#resources[data-kind="queues"] tbody tr').length === 0, null, 60000);
    seen.afterReset = String(await page.locator('#resources[data-kind="queues"] tbody tr').count());
    await page.click('#views button[data-view="timeline"]');
    await page.locator('#timeline tbody tr[data-kind="Reset"]').first().waitFor({ timeout: 10000 });
    seen.timelineAfterReset = await page.locator('#timeline tbody tr[data-kind="Reset"]').first().textContent();
    await shot("after-reset");

    if (failed.length) throw new Error(failed.join("\n"));
    process.stdout.write("VIEWS " + JSON.stringify(seen) + "\n");
    process.stdout.write("CHAIN " + JSON.stringify(chain) + "\n");
  } finally {
    await browser.close();
  }
})().catch(e => { process.stderr.write(String(e && e.stack || e) + "\n"); process.exit(1); });
