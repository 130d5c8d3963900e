/*
 * The cloud's web page in a real browser (docs/web-app.md): Debian's Chromium, headless, driven by
 * playwright-core (no browser download). A person's session with a simulated node process: sign in,
 * upload an image as the admin (its facts shown before the upload), create a job, check for an
 * update, approve the offer with the keyboard, watch the progress bar reach the end and the node's
 * new version; then an image for another project, which the node rejects, and the page says why.
 */
import assert from "node:assert/strict";
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import type {BrowserContext, Page} from "playwright-core";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {buildAppImage} from "../host/tools/app-image";
import {launchChromium} from "./support/chromium";
import {NO_DELAYS, NodeProcess} from "./support/node-process";
import {desktopViewport, layoutProblems, measureLayout, phoneViewports} from "./support/page-layout";

const user = {userName: "alice@example.com", password: "secret"};
/** A second user: owns no node and is not the admin. */
const other = {userName: "bob@example.com", password: "bobs-secret"};
/** Short-lived access tokens: the page must renew them with the refresh token while the test runs. */
const tokenLifetimeSeconds = 4;
const nodeId = "web-node-1";
/** The docs' screenshots are refreshed only when asked for (RMX_WEB_SCREENSHOT=1), so a test run leaves the tree clean. */
const docsScreenshot = new URL("../docs/img/web-node-page.png", import.meta.url);
const docsOfferScreenshot = new URL("../docs/img/web-node-offer.png", import.meta.url);
const docsImage = (name: string) => new URL(`../docs/img/${name}`, import.meta.url).pathname;
/** The node's name in its config (ota/firmware.ts DEFAULT_NODE_NAME): the panel's heading is "<name> (<id>)". */
const nodeName = "RainMaker OTA node";

let cloud: Cloud;
let node: NodeProcess;
let context: BrowserContext;
let page: Page;
let work: string;
/** Requests of the page to anywhere but the cloud's origin (none: no CDN, works offline). */
const foreign: string[] = [];
/** The bodies of the page's login2 requests. */
const logins: Record<string, unknown>[] = [];
/** Answers of 400 and more to the page's requests that are not REST calls (the page's own files, the icon). */
const missing: string[] = [];

/** What must stay on one line at every width: the node link and id, the node table's Update cell, the history's Status. */
const oneLine = [".node-link", ".node-panel h2 .node-id", ".node-list .node-update", ".node-panel .history td.status"];

/**
 * Checks the layout at each phone width and at the desktop size (ends at the desktop size):
 * no sideways scroll, nothing past the viewport's edge, the one-line texts whole.
 * Writes a screenshot at 390 px wide and at the desktop size when `shots` names them.
 */
async function checkLayouts(moment: string, shots?: {phone: string; desktop: string}): Promise<void> {
	for (const viewport of [...phoneViewports, desktopViewport]) {
		await page.setViewportSize(viewport);
		const report = await measureLayout(page, oneLine);
		assert.deepEqual(layoutProblems(report), [], `${moment}, at ${viewport.width}×${viewport.height}`);
		assert.equal(report.viewportWidth, viewport.width);
		if (shots && viewport.width === 390) await screenshotTop(shots.phone);
	}
	if (shots) await screenshotTop(shots.desktop);
}

/** The top of the page down to the end of the node's panel (the admin side below is left out). */
async function screenshotTop(path: string): Promise<void> {
	const bottom = (await page.evaluate(
		`document.querySelector(".node-panel").getBoundingClientRect().bottom + window.scrollY`,
	)) as number;
	const width = page.viewportSize()!.width;
	await page.screenshot({path, fullPage: true, clip: {x: 0, y: 0, width, height: Math.ceil(bottom) + 8}});
}

/** The element that has the keyboard focus: its class and role. */
function focused(): Promise<{className: string; role: string | null}> {
	return page.evaluate(
		`({className: document.activeElement.className, role: document.activeElement.getAttribute("role")})`,
	);
}

/** The page's origin (the REST port), from the cloud's REST base. */
function pageUrl(): string {
	return new URL("/", cloud.httpUrl).toString();
}

/**
 * Every form control has a name a screen reader reads: a label (or aria-label/-labelledby) for
 * inputs, selects and the progress bar, text for buttons. Runs in the page (plain JS: the test's
 * own types have no DOM).
 */
function unlabelledControls(): Promise<string[]> {
	return page.evaluate(`[...document.querySelectorAll("input, select, button, progress")]
		.filter((element) => element.tagName === "BUTTON"
			? element.textContent.trim() === "" && !element.getAttribute("aria-label")
			: !(element.labels?.length || element.getAttribute("aria-label") || element.getAttribute("aria-labelledby")))
		.map((element) => element.outerHTML.slice(0, 120))`);
}

/**
 * Follows the progress bar until the update to `version` ends; returns every value it showed and the
 * final status. A MutationObserver in the page sees each change of the bar and the result as it
 * happens (no sampling, no sleep), so a bar that went back even for one rendering is caught.
 */
async function followProgress(
	version: string,
	jobId: string,
	timeoutMs: number,
): Promise<{values: number[]; final: string; disagreements: string[]; finalHistory: string | null}> {
	// Plain JS: no DOM types here.
	const ended = page.evaluate(`new Promise((resolve) => {
		const values = [];
		// The history row of the job must tell the same as the bar at every moment the page shows.
		const disagreements = [];
		const look = () => {
			const bar = document.querySelector(".node-panel progress");
			const result = document.querySelector(".node-panel .result");
			const history = document.querySelector('.node-panel tr[data-job="${jobId}"] td.status');
			const historyText = history ? history.textContent : null;
			const value = bar && bar.offsetParent !== null ? bar.value : null;
			if (value !== null && values.at(-1) !== value)
				values.push(value);
			const final = result && result.dataset.final && result.textContent.includes(${JSON.stringify(`Update to ${version} `)});
			if (value !== null && !final && historyText !== "In progress")
				disagreements.push("bar at " + value + " %, history says " + historyText);
			window.rmxProgressSeen = {values, result: result ? result.textContent : null, disagreements};
			// An earlier job's result stays on screen until the page has sent the approval.
			if (final) {
				observer.disconnect();
				resolve({values, final: result.dataset.final, disagreements, finalHistory: historyText});
			}
		};
		const observer = new MutationObserver(look);
		observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
		look();
	})`) as Promise<{values: number[]; final: string; disagreements: string[]; finalHistory: string | null}>;
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timedOut = new Promise<never>((_resolve, reject) => {
		timer = setTimeout(() => {
			void page
				.evaluate("window.rmxProgressSeen")
				.catch(() => undefined)
				.then(seen =>
					reject(new Error(`no final result within ${timeoutMs} ms; seen: ${JSON.stringify(seen)}`)),
				);
		}, timeoutMs);
	});
	try {
		return await Promise.race([ended, timedOut]);
	} finally {
		clearTimeout(timer);
	}
}

describe("web page in Chromium", function () {
	this.timeout(120_000);

	before(async () => {
		work = mkdtempSync(join(tmpdir(), "rmx-web-"));
		const v1 = join(work, "firmware-1.0.0.bin");
		writeFileSync(v1, buildAppImage({version: "1.0.0", payloadSize: 64 * 1024}));
		writeFileSync(join(work, "firmware-2.0.0.bin"), buildAppImage({version: "2.0.0", payloadSize: 384 * 1024}));
		writeFileSync(join(work, "firmware-2.1.0.bin"), buildAppImage({version: "2.1.0", payloadSize: 16 * 1024}));
		writeFileSync(
			join(work, "other-project-3.0.0.bin"),
			buildAppImage({version: "3.0.0", projectName: "someone-elses-app", payloadSize: 32 * 1024}),
		);
		writeFileSync(join(work, "notes.txt"), "not a firmware image\n".repeat(40));
		// About 3 s for the 2.0.0 download, so the page sees the download under way.
		cloud = await startCloud({users: [user, other], tokenLifetimeSeconds, downloadBytesPerSecond: 128 * 1024});
		node = new NodeProcess(nodeId, cloud.mqttUrl, v1, [
			...NO_DELAYS,
			"--no-autofetch",
			"--progress-interval",
			"10",
		]);
		await cloud.waitFor("params", event => event.nodeId === nodeId && event.init, 20_000);
		context = await launchChromium(join(work, "profile"));
		page = context.pages()[0] ?? (await context.newPage());
		page.on("request", request => {
			if (!request.url().startsWith(pageUrl())) foreign.push(request.url());
			if (request.method() === "POST" && request.url().endsWith("/v1/login2"))
				logins.push(JSON.parse(request.postData() ?? "{}") as Record<string, unknown>);
		});
		page.on("response", response => {
			if (response.status() >= 400 && !response.url().includes("/v1/"))
				missing.push(`${response.status()} ${response.url()}`);
		});
	});

	after(async () => {
		await context?.close();
		await node?.stop();
		await cloud?.close();
		rmSync(work, {recursive: true, force: true});
	});

	it("refuses a wrong password in words, then signs in and lists the node", async () => {
		await page.goto(pageUrl());
		await page.getByLabel("Email").waitFor();
		for (const viewport of [...phoneViewports, desktopViewport]) {
			await page.setViewportSize(viewport);
			const report = await measureLayout(page, []);
			assert.deepEqual(layoutProblems(report), [], `sign-in at ${viewport.width}×${viewport.height}`);
		}
		await page.getByLabel("Email").fill(user.userName);
		await page.getByLabel("Password").fill("wrong");
		await page.getByRole("button", {name: "Sign in"}).click();
		await page.getByText(/^Sign-in failed: .+/).waitFor();
		await page.getByLabel("Password").fill(user.password);
		await page.getByLabel("Password").press("Enter");
		const row = page.locator("tr", {has: page.locator(`button[data-node="${nodeId}"]`)});
		await row.getByText("Online").waitFor();
		await row.getByText("1.0.0").waitFor();
		await row.getByText("rainmaker-ota-xs").waitFor();
		assert.deepEqual(await unlabelledControls(), []);
	});

	it("shows an image's facts before the upload, refuses a non-image in words, and creates a job", async () => {
		await page.getByLabel("Firmware image file").setInputFiles(join(work, "notes.txt"));
		await page.getByText(/notes\.txt cannot be uploaded: Not an ESP32 application image/).waitFor();
		assert.equal(await page.getByRole("button", {name: "Upload image"}).isDisabled(), true);

		await page.getByLabel("Firmware image file").setInputFiles(join(work, "firmware-2.0.0.bin"));
		const facts = page.locator(".image-facts");
		await facts.getByText("2.0.0").waitFor();
		assert.match(await facts.innerText(), /Project\s+rainmaker-ota-xs[^]*Version\s+2\.0\.0[^]*Chip\s+esp32\b/);
		assert.equal(cloud.jobs().length, 0, "nothing is sent before Upload");
		await page.getByRole("button", {name: "Upload image"}).click();
		await page.getByText(/^Uploaded firmware-2\.0\.0: image img_\w+, firmware 2\.0\.0\.$/).waitFor();

		await page.getByLabel("Job name").fill("web update to 2.0.0");
		await page.getByLabel(new RegExp(`^${nodeId}`)).check();
		await page.getByRole("button", {name: "Create job"}).click();
		await page.getByText(/^Created job job_\w+ \(web update to 2\.0\.0\) for web-node-1\.$/).waitFor();
		assert.equal(cloud.jobs().length, 1);
		assert.deepEqual(cloud.jobs()[0]!.nodes, [nodeId]);
	});

	it("lists the node's switch and toggles its Power; the node applies and reports it", async () => {
		await page.locator(`button[data-node="${nodeId}"]`).press("Enter");
		const toggle = page.locator(".node-panel .devices").getByRole("button", {name: /^Switch Power/});
		await toggle.getByText("Switch Power: Off").waitFor();
		assert.equal(await toggle.getAttribute("aria-pressed"), "false");
		const reported = cloud.waitFor(
			"params",
			event => event.nodeId === nodeId && (event.params.Switch as {Power?: boolean} | undefined)?.Power === true,
			20_000,
		);
		await toggle.click();
		await reported;
		await toggle.getByText("Switch Power: On").waitFor();
		assert.equal(await toggle.getAttribute("aria-pressed"), "true");
		assert.deepEqual(await unlabelledControls(), []);
	});

	it("checks the node, approves the offer with the keyboard, follows the progress to the new version", async () => {
		const job = cloud.jobs()[0]!;
		await page.locator(`button[data-node="${nodeId}"]`).press("Enter");
		const panel = page.locator(".node-panel");
		// The node's name and id, said once: "RainMaker OTA node (web-node-1)", not "Node RainMaker OTA node (…)".
		await panel.getByRole("heading", {name: `${nodeName} (${nodeId})`, exact: true}).waitFor();
		// Keyboard only: choosing the node puts the focus on its heading; Tab reaches "Check for update".
		assert.equal(await page.evaluate("document.activeElement.textContent"), `${nodeName} (${nodeId})`);
		await page.keyboard.press("Tab");
		assert.equal(await page.evaluate("document.activeElement.textContent"), "Check for update");
		await page.keyboard.press("Enter");
		const approve = panel.getByRole("button", {name: "Approve 2.0.0"});
		await approve.waitFor({timeout: 20_000});
		assert.equal(await panel.locator(".offer-version").innerText(), "2.0.0");
		assert.match(await panel.locator(".offer-size").innerText(), /^384 KiB \(393,\d{3} bytes\)$/);
		assert.equal(cloud.jobState(nodeId, job.id)?.status, "delayed", "nothing is installed before the approval");
		if (process.env.RMX_WEB_SCREENSHOT) await panel.screenshot({path: docsOfferScreenshot.pathname});
		await page.locator(".node-list .node-update", {hasText: "Update 2.0.0 offered"}).waitFor();
		await panel.locator(`tr[data-job="${job.id}"] td.status`).waitFor();
		await checkLayouts(
			"with the offer",
			process.env.RMX_WEB_SCREENSHOT
				? {phone: docsImage("web-phone-offer.png"), desktop: docsImage("web-desktop-offer.png")}
				: undefined,
		);

		// the new firmware's first params/local/init
		const reinit = cloud.waitFor("params", event => event.nodeId === nodeId && event.init, 90_000);
		await approve.press("Enter");
		// The focus follows the approval to the progress, which is announced (role=status is aria-live polite).
		assert.deepEqual(await focused(), {className: "progress-region", role: "status"});
		const {values, final, disagreements, finalHistory} = await followProgress("2.0.0", job.id, 60_000);
		assert.equal(final, "success", await panel.locator(".result").innerText());
		assert.deepEqual(disagreements, [], "the history row tells what the bar tells");
		assert.equal(finalHistory, "Succeeded", "the history shows the end with the result");
		assert.deepEqual(await focused(), {className: "progress-region", role: "status"});
		assert.equal(values.at(-1), 100, `progress seen: ${values.join(", ")}`);
		assert.ok(
			values.some(value => value > 0 && value < 100),
			`the bar moved through the download: ${values.join(", ")}`,
		);
		assert.deepEqual(
			values,
			[...values].sort((a, b) => a - b),
			"the bar never goes back",
		);
		assert.match(
			await panel.locator(".result").innerText(),
			/^Update to 2\.0\.0 succeeded: OTA Upgrade finished and verified successfully\./,
		);
		await panel.locator(".fw-version", {hasText: "2.0.0"}).waitFor({timeout: 15_000});
		// Drawn in the same poll as the panel: the node list and the admin's node picker say 2.0.0 too.
		assert.deepEqual(
			await page.evaluate(`[
				document.querySelector('.node-list tr:has(button[data-node="${nodeId}"]) td[data-label="Firmware"]').textContent,
				document.querySelector('label[for="job-node-${nodeId}"]').textContent,
			]`),
			["2.0.0", `${nodeId} (runs 2.0.0)`],
		);
		const historyRow = panel.locator(`tr[data-job="${job.id}"]`);
		assert.equal(await historyRow.locator("td.status").innerText(), "Succeeded");
		assert.equal(cloud.jobState(nodeId, job.id)?.status, "success");
		// The admin's Jobs table names the cloud's option for what it is.
		const jobRow = page.locator(`.admin tr[data-job="${job.id}"]`);
		assert.equal(
			await jobRow.locator('td[data-label="Cloud-side user approval"]').innerText(),
			"no: sent to the nodes",
		);
		// the switch kept its Power through the update (the new firmware reported it at start)
		assert.deepEqual((await reinit).params.Switch, {Name: "Switch", Power: true});
		await panel.locator(".devices").getByText("Switch Power: On").waitFor();
		assert.deepEqual(await unlabelledControls(), []);
		await checkLayouts(
			"after the update",
			process.env.RMX_WEB_SCREENSHOT
				? {phone: docsImage("web-phone-done.png"), desktop: docsImage("web-desktop-done.png")}
				: undefined,
		);
		const shot = process.env.RMX_WEB_SCREENSHOT ? docsScreenshot.pathname : join(work, "node-page.png");
		mkdirSync(dirname(shot), {recursive: true});
		await panel.scrollIntoViewIfNeeded();
		await panel.screenshot({path: shot});
	});

	it("shows the text of a rejected update (an image for another project)", async () => {
		await page.getByLabel("Firmware image file").setInputFiles(join(work, "other-project-3.0.0.bin"));
		await page.locator(".image-facts").getByText("someone-elses-app").waitFor();
		await page.getByRole("button", {name: "Upload image"}).click();
		await page.getByText(/^Uploaded other-project-3\.0\.0: image img_\w+, firmware 3\.0\.0\.$/).waitFor();
		await page.getByLabel("Job name").fill("wrong project");
		await page.getByLabel(new RegExp(`^${nodeId}`)).check();
		await page.getByRole("button", {name: "Create job"}).click();
		await page.getByText(/^Created job job_\w+ \(wrong project\)/).waitFor();
		const job = cloud.jobs().at(-1)!;

		const panel = page.locator(".node-panel");
		await panel.getByRole("button", {name: "Check for update"}).click();
		await panel.getByRole("button", {name: "Approve 3.0.0"}).click({timeout: 20_000});
		assert.deepEqual(await focused(), {className: "progress-region", role: "status"}, "after a click too");
		const {final, finalHistory} = await followProgress("3.0.0", job.id, 30_000);
		assert.equal(finalHistory, "Rejected");
		assert.equal(final, "rejected");
		assert.equal(await panel.locator(".result").innerText(), "Update to 3.0.0 rejected: Project Name mismatch");
		await panel.locator(`tr[data-job="${job.id}"]`).getByText("Project Name mismatch").waitFor({timeout: 10_000});
		assert.equal(await panel.locator(".fw-version").innerText(), "2.0.0", "the node keeps running 2.0.0");
	});

	it("a job with the cloud-side user approval: held by the cloud until the user sends it, then offered and installed", async () => {
		await page.getByLabel("Firmware image file").setInputFiles(join(work, "firmware-2.1.0.bin"));
		await page.locator(".image-facts").getByText("2.1.0").waitFor();
		await page.getByRole("button", {name: "Upload image"}).click();
		await page.getByText(/^Uploaded firmware-2\.1\.0: image img_\w+, firmware 2\.1\.0\.$/).waitFor();
		await page.getByLabel("Job name").fill("needs the user");
		await page.getByLabel(new RegExp(`^${nodeId}`)).check();
		await page.getByLabel(/user approval/).check();
		await page.getByRole("button", {name: "Create job"}).click();
		await page
			.getByText(
				/^Created job job_\w+ \(needs the user\) for web-node-1, held by the cloud until a user sends it\.$/,
			)
			.waitFor();
		const job = cloud.jobs().at(-1)!;
		assert.equal(job.userApproval, true);
		await page
			.locator(`.admin tr[data-job="${job.id}"] td[data-label="Cloud-side user approval"]`)
			.getByText("yes: held until a user sends it")
			.waitFor();

		const panel = page.locator(".node-panel");
		const held = panel.locator(".cloud-offer");
		await held.getByText(/^2\.1\.0, 16 KiB/).waitFor({timeout: 10_000});
		assert.equal(cloud.jobState(nodeId, job.id)?.servedCount, 0, "the cloud holds it");
		await held.getByRole("button", {name: "Send to node"}).click();
		await panel.getByRole("button", {name: "Approve 2.1.0"}).click({timeout: 20_000});
		const {final} = await followProgress("2.1.0", job.id, 30_000);
		assert.equal(final, "success", await panel.locator(".result").innerText());
		await panel.locator(".fw-version", {hasText: "2.1.0"}).waitFor({timeout: 15_000});
		assert.equal(await held.isHidden(), true);
	});

	it("says in words when the node goes offline, and why it cannot check", async () => {
		await node.stop();
		const panel = page.locator(".node-panel");
		await panel
			.getByText("The node is offline: it can neither check nor install until it is back.")
			.waitFor({timeout: 10_000});
		assert.equal(await panel.getByRole("button", {name: "Check for update"}).isDisabled(), true);
		await page
			.locator("tr", {has: page.locator(`button[data-node="${nodeId}"]`)})
			.getByText(/^Offline since \d{4}-\d\d-\d\d /)
			.waitFor();
	});

	it("asked nothing of any origin but the cloud's own, and every file it asked for was there (the icon too)", () => {
		assert.deepEqual(foreign, []);
		assert.deepEqual(missing, []);
	});

	it("renewed the expired access token with the refresh token, without asking again", () => {
		const renewals = logins.filter(body => typeof body.refreshtoken === "string");
		assert.ok(renewals.length >= 1, `login2 bodies: ${JSON.stringify(logins)}`);
		assert.equal(
			logins.filter(body => typeof body.password === "string").length,
			2,
			"one wrong and one right password, nothing more",
		);
	});

	it("signs out; another user sees none of this user's nodes and no admin side", async () => {
		await page.getByRole("button", {name: "Sign out"}).click();
		await page.getByText("You are signed out.").waitFor();
		await page.getByLabel("Email").fill(other.userName);
		await page.getByLabel("Password").fill(other.password);
		await page.getByRole("button", {name: "Sign in"}).click();
		await page.getByText(`Signed in as ${other.userName}`).waitFor();
		await page.getByText(/^You have no nodes yet/).waitFor();
		assert.equal(await page.locator(`button[data-node="${nodeId}"]`).count(), 0);
		assert.equal(await page.getByRole("heading", {name: /^Admin/}).count(), 0);
	});

	it("says in words that the cloud cannot be reached when it stops, and keeps trying", async () => {
		await cloud.close();
		await page
			.getByText("Cannot refresh: cannot reach the cloud (is it still running?). Trying again…")
			.waitFor({timeout: 10_000});
	});
});
