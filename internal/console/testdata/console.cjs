// Drives wharf's console in Debian's Chromium with playwright-core (never a
// downloaded browser). Usage: node console.cjs <playwright-core dir> <wharf URL>
// <screenshot dir>. It opens /_wharf/, says READY on stdout once the live
// stream is connected, then waits (the Go test uploads an object meanwhile)
// for the upload's ObjectCreated hop to appear live, opens its causal chain
// and checks it reaches the queue; then it opens each resource view (queues,
// rules, tables, tasks, alarms), reads what the Go test made there and purges
// the queue. Exit status 0 means every check passed.
"use strict";
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
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const failed = [];
    page.on("pageerror", e => failed.push(String(e)));
    // Offline: the console must ask nothing of any host but wharf.
    page.on("request", r => { if (!r.url().startsWith(base)) failed.push("request to " + r.url()); });
    await page.goto(base + "/_wharf/");
    await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
    process.stdout.write("READY\n");

    const created = page.locator('#timeline tbody tr[data-kind="ObjectCreated"]');
    await created.first().waitFor({ timeout: 20000 });
    // The chain completes asynchronously: wait until the message is sent.
    await page.locator('#timeline tbody tr[data-kind="MessageSent"]').first().waitFor({ timeout: 20000 });
    await page.screenshot({ path: shots + "/timeline.png", fullPage: true });
    await created.first().click();
    for (const kind of ["ObjectCreated", "EventReceived", "RuleMatched", "Invocation", "MessageSent"]) {
      await page.locator(`#trace li[data-kind="${kind}"]`).first().waitFor({ timeout: 10000 });
    }
    const chain = await page.locator("#trace li").allTextContents();
    await page.screenshot({ path: shots + "/trace.png", fullPage: true });

    // The filters narrow the list: only the queue's hops remain.
    await page.selectOption('select[name="service"]', "sqs");
    await page.click('#filters button[type="submit"]');
    await page.waitForFunction(() => {
      const rs = [...document.querySelectorAll("#timeline tbody tr")];
      return rs.length > 0 && rs.every(r => r.children[1].textContent === "sqs");
    }, null, { timeout: 10000 });

    // Resource views: the queue holds the message the rule sent, the rule
    // shows its target, the table, the stopped task with its exit code and
    // the alarm are listed; purging the queue empties it.
    const cell = (name, col) => page.locator(`#resources tr[data-name="${name}"] td[data-col="${col}"]`);
    await page.click('#views button[data-view="queues"]');
    await page.waitForFunction(() => {
      const c = document.querySelector('#resources tr[data-name="thumbs"] td[data-col="Visible"]');
      return c && c.textContent === "1";
    }, null, { timeout: 10000 });
    await page.screenshot({ path: shots + "/queues.png", fullPage: true });
    await page.click('#resources tr[data-name="thumbs"] td[data-col="actions"] button');
    await page.waitForFunction(() => {
      const c = document.querySelector('#resources tr[data-name="thumbs"] td[data-col="Visible"]');
      return c && c.textContent === "0";
    }, null, { timeout: 10000 });
    const seen = { queueAfterPurge: await cell("thumbs", "Visible").textContent() };

    await page.click('#views button[data-view="rules"]');
    await cell("default/on-photo", "Targets").waitFor({ timeout: 10000 });
    seen.ruleTargets = await cell("default/on-photo", "Targets").textContent();
    await page.screenshot({ path: shots + "/rules.png", fullPage: true });

    await page.click('#views button[data-view="tables"]');
    await cell("results", "Key").waitFor({ timeout: 10000 });
    seen.tableKey = await cell("results", "Key").textContent();

    await page.click('#views button[data-view="tasks"]');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#resources[data-kind="tasks"] td[data-col="Containers"]')].some(c => c.textContent.includes("exit 3")),
      null, { timeout: 20000 });
    seen.task = await page.locator('#resources tbody tr').first().textContent();
    await page.screenshot({ path: shots + "/tasks.png", fullPage: true });

    await page.click('#views button[data-view="alarms"]');
    await cell("errors-high", "State").waitFor({ timeout: 10000 });
    seen.alarm = await cell("errors-high", "State").textContent() + " " + await cell("errors-high", "Condition").textContent();
    await page.screenshot({ path: shots + "/alarms.png", fullPage: true });

    if (failed.length) throw new Error(failed.join("\n"));
    process.stdout.write("VIEWS " + JSON.stringify(seen) + "\n");
    process.stdout.write("CHAIN " + JSON.stringify(chain) + "\n");
  } finally {
    await browser.close();
  }
})().catch(e => { process.stderr.write(String(e && e.stack || e) + "\n"); process.exit(1); });
