// The console end to end, in a real Chromium, against a running local stack
// (started by tests/tests/console.rs): an agent signs in, the customer's
// escalated ticket appears live, the agent opens it (photo, bot context),
// claims it, replies with a canned response and a file (the simulator's inbox
// has both), a second agent sees the collision warning, the feed resyncs
// after a lost connection, the lead dashboard shows a breach once the clock
// moved, an admin erases a customer. Every view is screenshotted and checked
// with axe-core (no serious or critical violation); any Content-Security-
// Policy violation or page error fails the run.
//
// Environment: HELPDESK_URL, SIM_URL, PHOTO (a JPEG), OUT (a folder),
// CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const base = env("HELPDESK_URL").replace(/\/$/, "");
const sim = env("SIM_URL").replace(/\/$/, "");
const photo = env("PHOTO");
const out = env("OUT");
const consoleUrl = `${base}/console/`;
mkdirSync(out, { recursive: true });

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const problems = [];
const axeReport = [];
const steps = [];
const step = (text) => {
  steps.push(text);
  console.log(`- ${text}`);
};

const browser = await chromium.launch({
  executablePath: env("CHROMIUM", "/usr/bin/chromium"),
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
  ],
});

async function check(response, what) {
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
  return response;
}

async function customerSends(customer, message) {
  await check(
    await fetch(`${sim}/_sim/customers/${customer}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
    }),
    `customer ${customer} sends`,
  );
}

async function eventually(what, probe, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

async function newPage(who, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(text)) problems.push(`${who}: ${text}`);
  });
  page.on("pageerror", (error) => problems.push(`${who}: ${error.message}`));
  return { context, page };
}

async function signIn(who, viewport) {
  const session = await newPage(who, viewport);
  await session.page.goto(consoleUrl);
  await session.page.getByTestId(`signin-${who}`).click();
  await session.page.getByTestId("who").waitFor();
  return session;
}

async function shoot(page, name) {
  await page.screenshot({ path: join(out, `${name}.png`) });
}

/** axe-core on the page as it is; serious and critical violations fail. */
async function audit(page, name) {
  // Evaluated through the DevTools protocol: the page's CSP stays as served.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    globalThis.axe.run(globalThis.document, { resultTypes: ["violations"], runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"] }),
  );
  const violations = result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
  }));
  axeReport.push({ view: name, violations });
  for (const v of violations) {
    if (v.impact === "serious" || v.impact === "critical") problems.push(`axe ${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.join(", ")}`);
  }
}

async function inbox(customer) {
  const response = await check(await fetch(`${sim}/_sim/customers/${customer}/inbox`), "inbox");
  return response.json();
}

const maria = "15551260001";
const bruno = "15551260002";
const chloe = "15551260003";
let failed = null;
try {
  // An agent signs in; the sign-in page lists the local agents.
  const ana = await newPage("ana");
  await ana.page.goto(consoleUrl);
  await ana.page.getByTestId("signin-ana").waitFor();
  await shoot(ana.page, "signin");
  await audit(ana.page, "signin");
  await ana.page.getByTestId("signin-ana").click();
  await ana.page.getByTestId("who").waitFor();
  await ana.page.goto(`${consoleUrl}?view=unassigned`);
  await ana.page.getByRole("heading", { name: /Unassigned/ }).waitFor();
  step("ana signed in and watches Unassigned");

  // A customer who is not escalated: the admin erases them at the end.
  await customerSends(bruno, { type: "text", text: { body: "hello" }, profile_name: "Bruno Diaz" });

  // The customer sends a photo and asks for a human: the ticket appears live.
  await customerSends(maria, { type: "image", image: { path: photo, caption: "the box arrived crushed" }, profile_name: "Maria Lopez" });
  await customerSends(maria, { type: "text", text: { body: "I want to talk to a human please" } });
  const row = ana.page.locator('[data-testid^="row-TK-"]').first();
  await row.waitFor({ timeout: 60_000 });
  const ticketId = (await row.getAttribute("data-testid")).replace("row-", "");
  step(`the escalated ticket ${ticketId} appeared in Unassigned without a reload`);
  await shoot(ana.page, "unassigned");
  await audit(ana.page, "unassigned");

  // J focuses the first ticket, Enter opens it.
  await ana.page.keyboard.press("j");
  await ana.page.keyboard.press("Enter");
  await ana.page.waitForURL(new RegExp(`/tickets/${ticketId}`));
  const image = ana.page.getByTestId("media-image");
  await image.waitFor({ timeout: 60_000 });
  await eventually("the photo to load", () => image.evaluate((img) => img.complete && img.naturalWidth > 0));
  await eventually("the bot's context", async () => /direct_request/.test(await ana.page.getByTestId("bot-context").innerText()));
  step("the ticket shows the customer's photo and the bot's context");
  await shoot(ana.page, "ticket");
  await audit(ana.page, "ticket");

  // A claims it.
  await ana.page.locator("body").focus();
  await ana.page.keyboard.press("a");
  await eventually("ana to have the ticket", async () => /ana/.test(await ana.page.getByTestId("assignee").innerText()));
  step("A gave the ticket to ana");

  // A second agent opens the same ticket.
  const ben = await signIn("ben");
  await ben.page.goto(`${consoleUrl}tickets/${ticketId}`);
  await ben.page.getByTestId("assignee").waitFor();

  // `/` opens the canned responses; ana picks the introduction and types on.
  await ana.page.locator("body").focus();
  await ana.page.keyboard.press("/");
  await ana.page.getByTestId("canned-introduction").click();
  const box = ana.page.getByTestId("composer-text");
  await eventually("the canned text", async () => /looking after your request/.test(await box.inputValue()));
  await box.press("End");
  await box.pressSequentially(" Thanks!");
  await eventually(
    "ben to see that ana is replying",
    async () => /ana/.test(await ben.page.getByTestId("collision").innerText({ timeout: 1000 })),
    45_000,
  );
  step("ben sees the collision warning");
  await shoot(ben.page, "collision");
  await ana.page.getByTestId("send").click();
  await eventually("the reply to be delivered", async () =>
    (await inbox(maria)).some((m) => m.type === "text" && /looking after your request/.test(m.message.text.body)),
  );
  // Wait until the console shows the reply read, so the next action carries the version after it.
  await eventually("the reply read in the timeline", async () => (await ana.page.locator(".entry.outbound .delivery.read").count()) > 0);

  // A file, as an attachment.
  const pdf = Buffer.from(
    "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
  );
  await ana.page.getByTestId("attach").setInputFiles({ name: "return-label.pdf", mimeType: "application/pdf", buffer: pdf });
  await ana.page.locator(".uploads li.ready").waitFor({ timeout: 30_000 });
  await ana.page.getByTestId("send").click();
  await eventually("the file in the customer's inbox", async () => (await inbox(maria)).some((m) => m.type === "document"));
  step("the simulator's inbox has the canned reply and the file");

  // The palette and the keyboard help.
  await ana.page.locator("body").focus();
  await ana.page.keyboard.press("Control+k");
  await ana.page.locator(".palette").waitFor();
  await shoot(ana.page, "palette");
  await ana.page.keyboard.press("Escape");
  await ana.page.locator("body").focus();
  await ana.page.keyboard.press("?");
  await ana.page.getByRole("dialog").waitFor();
  await audit(ana.page, "keyboard-help");
  await shoot(ana.page, "keyboard");
  await ana.page.keyboard.press("Escape");
  step("Ctrl+K and ? open the palette and the keyboard map");

  // A lost connection: changes made meanwhile show once it is back.
  await ana.context.setOffline(true);
  await ana.page.getByText("Reconnecting…").waitFor({ timeout: 30_000 });
  await customerSends(chloe, { type: "text", text: { body: "I need a human agent" }, profile_name: "Chloe Martin" });
  await new Promise((resolve) => setTimeout(resolve, 5000));
  await ana.context.setOffline(false);
  await ana.page.getByText("Live").waitFor({ timeout: 60_000 });
  await eventually("chloe's ticket after the resync", async () => /Chloe Martin/.test(await ana.page.locator(".list").innerText()), 60_000);
  step("after a lost connection the console resynced and shows what changed meanwhile");

  // Tablet width.
  const tablet = await signIn("ana", { width: 820, height: 1180 });
  await tablet.page.goto(`${consoleUrl}tickets/${ticketId}`);
  await tablet.page.getByTestId("assignee").waitFor();
  const tabletImage = tablet.page.getByTestId("media-image");
  await tabletImage.waitFor({ timeout: 30_000 });
  await eventually("the photo at tablet width", () => tabletImage.evaluate((img) => img.complete && img.naturalWidth > 0));
  await shoot(tablet.page, "ticket-tablet");
  await audit(tablet.page, "ticket-tablet");

  // 35 minutes later nobody has answered chloe: her first response is breached; the lead sees it.
  await check(await fetch(`${base}/_local/clock/advance?minutes=35`, { method: "POST" }), "moving the clock");
  const lea = await signIn("lea");
  await lea.page.goto(`${consoleUrl}dashboard`);
  await eventually("a breach on the dashboard", async () => Number(await lea.page.getByTestId("breaches-range").innerText()) > 0, 60_000);
  step("the lead dashboard shows the breach");
  await lea.page.waitForTimeout(500);
  await shoot(lea.page, "dashboard");
  await audit(lea.page, "dashboard");

  // A day later the customer's window has closed: the composer offers templates only.
  await check(await fetch(`${base}/_local/clock/advance?minutes=1440`, { method: "POST" }), "moving the clock");
  await ana.page.reload();
  await ana.page.locator(".template-form").waitFor({ timeout: 30_000 });
  await shoot(ana.page, "template");

  // An admin erases a customer, after confirming.
  const max = await signIn("max");
  await max.page.goto(`${consoleUrl}admin`);
  await max.page.getByTestId("privacy-customer").fill(bruno);
  await max.page.getByTestId("erase").click();
  await max.page.getByTestId("erase-confirm").fill(bruno);
  await max.page.getByTestId("dialog-submit").click();
  await eventually("the erasure", async () => /requested|demandé|solicitado/.test(await max.page.getByTestId("privacy-message").innerText()));
  // The API records the erasure in the trail before it answers: one reload shows it.
  await max.page.reload();
  await eventually("the erasure in the audit trail", async () => /\berase\b/.test(await max.page.getByTestId("audit").innerText()), 15_000).catch(async (error) => {
    const token = await (await fetch(`${base}/_local/token?agent=max&teams=support,admins&format=raw`)).text();
    const trail = await (await fetch(`${base}/api/audit`, { headers: { Authorization: `Bearer ${token}` } })).json();
    const shown = await max.page.getByTestId("audit").innerText();
    throw new Error(`${error.message}; the API's trail: ${JSON.stringify(trail).slice(-600)}; the page: ${shown.slice(0, 300)}`);
  });
  step("the admin erased a customer");
  await shoot(max.page, "admin");
  await audit(max.page, "admin");
} catch (error) {
  failed = error;
} finally {
  writeFileSync(join(out, "axe-report.json"), JSON.stringify(axeReport, null, 2));
  await browser.close();
}

if (failed) {
  console.error(`FAILED after: ${steps.at(-1) ?? "(start)"}\n${failed.stack ?? failed}`);
  if (problems.length) console.error(problems.join("\n"));
  process.exit(1);
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`console end to end: ${steps.length} steps passed; screenshots and axe report in ${out}`);
