/*
 * `npm start -- --manual` as a person uses it (issue: "opens the printed address and approves the
 * update with a click"): the demo prints the page's address and the sign-in, waits for the approval;
 * Chromium opens that address, signs in, approves with a click and sees the node run 2.0.0; the demo
 * reports the confirmed version and stays up until Ctrl-C (SIGINT), then exits 0.
 */
import assert from "node:assert/strict";
import {spawn, type ChildProcessWithoutNullStreams} from "node:child_process";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {BrowserContext} from "playwright-core";
import {launchChromium} from "./support/chromium";
import {waitUntil} from "./support/wait";
import {COMMAND} from "./support/command";

describe("npm start -- --manual, approved in the web page", function () {
	this.timeout(120_000);
	let child: ChildProcessWithoutNullStreams | undefined;
	let context: BrowserContext | undefined;
	let work: string;
	let output = "";

	before(() => {
		work = mkdtempSync(join(tmpdir(), "rmx-web-demo-"));
	});

	after(async () => {
		await context?.close();
		if (child && child.exitCode === null) {
			child.kill("SIGKILL");
			await new Promise(resolve => child!.once("exit", resolve));
		}
		rmSync(work, {recursive: true, force: true});
	});

	const waitForOutput = async (pattern: RegExp, timeoutMs: number) => {
		await waitUntil(() => pattern.test(output), `demo output matching ${pattern}; got:\n${output}`, timeoutMs);
		return pattern.exec(output)!;
	};

	it("prints the page's address; a click there installs 2.0.0; Ctrl-C ends the demo with 0", async () => {
		child = spawn(process.execPath, [COMMAND, "demo", "--manual"], {
			stdio: ["pipe", "pipe", "pipe"],
		});
		child.stdout.on("data", data => (output += data));
		child.stderr.on("data", data => (output += data));
		const [, url, email, password] = await waitForOutput(
			/\[demo\] web page: (http:\/\/127\.0\.0\.1:\d+\/) \(sign in as (\S+), password (\S+)\)/,
			30_000,
		);
		await waitForOutput(/\[demo\] approve it in the web page/, 60_000);

		context = await launchChromium(join(work, "profile"));
		const page = context.pages()[0] ?? (await context.newPage());
		await page.goto(url!);
		await page.getByLabel("Email").fill(email!);
		await page.getByLabel("Password").fill(password!);
		await page.getByRole("button", {name: "Sign in"}).click();
		await page.locator('button[data-node="demo-node"]').click();
		const panel = page.locator(".node-panel");
		await panel.getByRole("button", {name: "Approve 2.0.0"}).click({timeout: 20_000});
		await panel.locator('.result[data-final="success"]').waitFor({timeout: 60_000});
		await panel.locator(".fw-version", {hasText: "2.0.0"}).waitFor({timeout: 15_000});
		assert.equal(await panel.locator("progress").getAttribute("value"), "100");
		await waitForOutput(/\[demo\] done: demo-node runs firmware 2\.0\.0; job job_\w+ ended with success/, 20_000);
		await waitForOutput(/\[demo\] still running; Ctrl-C ends/, 5_000);
		assert.equal(child.exitCode, null, "the demo stays up for the page");

		const exited = new Promise<number | null>(resolve => child!.once("exit", resolve));
		child.kill("SIGINT");
		assert.equal(await exited, 0, output);
	});
});
